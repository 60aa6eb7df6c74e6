"""``reconcile import``: adopt what PB already holds as a new catalog directory.

The pipeline: check the destination → connect → read every product (paged search with
the wide creation-date window, so products older than six months are included) and
every BOM (inactive ones included, exactly as ``plan`` reads them) → choose what to
write → write the catalog in the canonical ``fmt`` layout. Pages are turned into models
as they arrive, so the raw JSON of a large account is never held whole; nothing is
written until every read succeeded, so a failed import leaves the destination as it was.

The result obeys the round-trip rule: ``plan`` on the imported directory, against the
same environment, shows no changes. Remote states ``plan`` refuses (two active BOMs for
one kit and node, an object the models cannot represent) are refused here too.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from reconcile.desired.walk import existing_catalog
from reconcile.desired.writer import SplitBy
from reconcile.environments import SANDBOX_DIR, connect, copy_sandbox
from reconcile.errors import UsageError
from reconcile.models import Bom, ResourceSet
from reconcile.plan.plan import Selector
from reconcile.remote import wire
from reconcile.remote.client import PBClient
from reconcile.remote.fetch import both, decode
from reconcile.remote.progress import NO_PROGRESS, Progress
from reconcile.settings import SETTINGS_FILE, Environment, Settings

PRODUCTS_TASK = "product pages"
BOMS_TASK = "BOM pages"


@dataclass(frozen=True)
class ImportOptions:
    """What to import and how to lay it out (the command's options)."""

    env: str | None = None
    client_id: str | None = None
    source_dir: Path = Path()
    include_inactive: bool = False
    split_by: SplitBy = "productType"
    targets: Sequence[str] = ()
    force: bool = False


@dataclass(kw_only=True)
class LeftOut:
    """What was read from PB but not written to the catalog, and why."""

    skipped_inactive_products: int = 0
    skipped_inactive_boms: int = 0
    not_targeted: int = 0
    kept_for_references: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)

    def left_out(self) -> dict[str, Any]:
        """These fields alone, to hand from the choice to the result."""
        return {f.name: getattr(self, f.name) for f in fields(LeftOut)}


@dataclass(kw_only=True)
class ImportResult(LeftOut):
    """What was written, and what was read but left out (and why)."""

    directory: Path
    environment: str
    client_id: str
    files: list[Path]
    products: int
    boms: int
    sandbox_file: str | None = None
    requests: int = 0
    #: With --force: catalog files of --out removed, and those written anew in their place.
    removed: list[Path] = field(default_factory=list)
    replaced: list[Path] = field(default_factory=list)
    #: YAML files below --out that are not catalog files (left alone; plan would read them).
    other_yaml: list[Path] = field(default_factory=list)
    #: --out's reconcile.yaml was kept as it was; its default environment.
    kept_settings: str | None = None


async def import_catalog(
    out_dir: Path,
    options: ImportOptions = ImportOptions(),
    *,
    progress: Progress = NO_PROGRESS,
    environ: Mapping[str, str] = os.environ,
) -> ImportResult:
    """Read the client's products and BOMs from PB and write them as a catalog in ``out_dir``."""
    check_destination(out_dir, force=options.force)
    settings = source_settings(options.source_dir)
    check_not_nested(out_dir, options.source_dir)
    env_name, environment = settings.environment(options.env)
    client_id = _client_id(options, settings)
    kept = settings_to_keep(out_dir, env_name, environment, client_id) if options.force else None
    client, info = connect(settings, env_name, catalog_dir=options.source_dir, environ=environ)
    async with client:
        progress.note(f"Reading every product and BOM of client {client_id!r} ({env_name})…")
        remote = await read_everything(client, client_id, progress)
        requests = client.request_count
    chosen = choose(remote, options)
    result = ImportResult(
        directory=out_dir,
        environment=env_name,
        client_id=client_id,
        files=[],
        products=len(chosen.resources.products),
        boms=len(chosen.resources.boms),
        requests=requests,
        **chosen.left_out(),
    )
    progress.note(f"Writing {result.products} products and {result.boms} BOMs to {out_dir}…")
    old, result.other_yaml = existing_catalog(out_dir)
    result.files = write_imported(
        out_dir,
        resources=chosen.resources,
        source=settings,
        env_name=env_name,
        client_id=client_id,
        options=options,
        replacing=old,
        kept_settings=kept,
    )
    result.removed = [path for path in old if path not in result.files]
    result.replaced = [path for path in old if path in result.files]
    if kept is not None:
        result.kept_settings = kept.default_environment
    if environment.embedded and info.sandbox_file:
        result.sandbox_file = str(copy_sandbox(Path(info.sandbox_file), out_dir))
    return result


def _client_id(options: ImportOptions, settings: Settings) -> str:
    """The PB client to import: --client-id, else the --from catalog's (exit 64 if neither)."""
    client_id = options.client_id or settings.client_id
    if not client_id:
        raise UsageError(
            "which PB client should be imported? Pass --client-id ID, or run from (or point "
            f"--from at) a catalog directory whose {SETTINGS_FILE} sets client_id"
        )
    return client_id


# ---- destination and settings ------------------------------------------------------------


def check_destination(out_dir: Path, *, force: bool) -> None:
    """Refuse to write into a file, or into a non-empty directory (a `.git` alone does not
    count) without ``--force``."""
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"--out {out_dir} is a file; name a new or empty directory")
    # A fresh `git init` is as good as empty: import, then commit, is the intended flow.
    if out_dir.is_dir() and any(p.name != ".git" for p in out_dir.iterdir()) and not force:
        raise UsageError(
            f"--out {out_dir} is not empty; import into a new or empty directory, or pass "
            "--force to replace the catalog files in it (other files are left alone)"
        )


@dataclass(frozen=True)
class KeptSettings:
    """--out's own reconcile.yaml, kept byte for byte by ``import --force``."""

    text: bytes
    default_environment: str


def settings_to_keep(
    out_dir: Path, env_name: str, environment: Environment, client_id: str
) -> KeptSettings | None:
    """--out's reconcile.yaml when ``--force`` may keep it as it is: it names the imported
    client and defines the environment import reads from as import does. Anything else is
    refused (exit 64) before PB is read: its other settings (safety, limits, prune,
    comments) are the user's, never rewritten."""
    from reconcile.desired import load_settings

    path = out_dir / SETTINGS_FILE
    if not path.is_file():
        return None
    existing = load_settings(out_dir)  # invalid: exit 3 at its line
    fix = "import into another directory, or remove it to let import write one"
    if existing.client_id != client_id:
        named = f"is for client {existing.client_id!r}" if existing.client_id else "names no client"
        raise UsageError(f"{path} {named}, not the imported {client_id!r}; {fix}")
    defined = existing.all_environments().get(env_name)
    if defined != environment:
        how = "does not define" if defined is None else "defines another"
        raise UsageError(
            f"{path} {how} environment {env_name!r}, which import reads from; make it the "
            f"same as in the --from catalog, or {fix}"
        )
    return KeptSettings(path.read_bytes(), existing.default_environment)


def check_not_nested(out_dir: Path, source_dir: Path) -> None:
    """Refuse an --out inside the --from catalog: its files would join that catalog."""
    source, out = source_dir.resolve(), out_dir.resolve()
    if (source / SETTINGS_FILE).is_file() and out != source and out.is_relative_to(source):
        raise UsageError(
            f"--out {out_dir} is inside the catalog {source_dir} (it has a {SETTINGS_FILE}), "
            "whose every YAML file below it is part of that catalog; import next to it "
            "instead, e.g. --out ../imported"
        )


def source_settings(source_dir: Path) -> Settings:
    """The settings of the catalog import reads with: its reconcile.yaml, else defaults."""
    from reconcile.desired import load_settings

    if not source_dir.is_dir():
        raise UsageError(f"--from {source_dir} is not a directory")
    if not (source_dir / SETTINGS_FILE).is_file():
        return Settings()
    return load_settings(source_dir)


# ---- reading -------------------------------------------------------------------------------


async def read_everything(client: PBClient, client_id: str, progress: Progress) -> ResourceSet:
    """Every product and BOM of ``client_id``, as models; PB's JSON is dropped page by page."""
    # both(), not a TaskGroup: a failure (bad credentials, PB unreachable) must reach the
    # command as itself (exit 4 with its message), not wrapped in an ExceptionGroup.
    remote, bom_objects = await both(
        _read_products(client, client_id, progress), _read_boms(client, client_id, progress)
    )
    read_boms = decode((), bom_objects)
    for key in sorted(read_boms.duplicates):
        # A catalog is written from one BOM per key: which of the duplicates it should
        # declare is the person's call (plan can clean up once the catalog says).
        raise read_boms.ambiguity(key)
    remote.boms = read_boms.boms
    remote.unreadable.update(read_boms.unreadable)
    return remote


async def _read_products(client: PBClient, client_id: str, progress: Progress) -> ResourceSet:
    found = ResourceSet()
    pages = client.search_products(
        client_id,
        search_fields=wire.product_window_search_fields(),
        on_page=_page_counter(PRODUCTS_TASK, progress),
    )
    async for obj in pages:
        if obj.get("clientId", client_id) == client_id:
            read = wire.read_product(obj)
            if isinstance(read, wire.Unreadable):
                # Left out of the catalog, as plan leaves it alone: see choose().
                found.unreadable[read.address] = read.reason
            else:
                found.add_product(read[0])
    progress.done(PRODUCTS_TASK)
    return found


async def _read_boms(client: PBClient, client_id: str, progress: Progress) -> list[dict[str, Any]]:
    # Inactive BOMs are always read, as plan reads them: an inactive BOM beside an active
    # one of the same key is history, and several of either are an error plan would raise.
    pages = client.search_boms(
        client_id, include_inactive=True, on_page=_page_counter(BOMS_TASK, progress)
    )
    found = [obj async for obj in pages if obj.get("clientId", client_id) == client_id]
    progress.done(BOMS_TASK)
    return found


def _page_counter(task: str, progress: Progress) -> Callable[[int, int], None]:
    """The client's per-page callback as progress on ``task`` (units: pages)."""

    def on_page(done: int, total: int) -> None:
        progress.update(task, advance=1, total=total)

    return on_page


# ---- choosing ------------------------------------------------------------------------------


@dataclass(kw_only=True)
class Chosen(LeftOut):
    resources: ResourceSet


def choose(remote: ResourceSet, options: ImportOptions) -> Chosen:
    """What to write: targeted resources; inactive ones only with --include-inactive,
    except inactive products an imported BOM names (kit or component), which are kept so
    the catalog declares everything its BOMs reference."""
    selected = Selector(options.targets, ())
    chosen = Chosen(resources=ResourceSet())
    chosen.unreadable = [f"{address}: {why}" for address, why in sorted(remote.unreadable.items())]
    boms = {
        k: b
        for k, b in remote.boms.items()
        if selected(k.address, k.sku) and k.address not in remote.unreadable
    }
    chosen.not_targeted = len(remote.boms) - len(boms)
    for _, bom in sorted(boms.items()):
        if bom.active or options.include_inactive:
            chosen.resources.add_bom(bom)
        else:
            chosen.skipped_inactive_boms += 1
    referenced = _referenced_skus(chosen.resources.boms.values())
    for pkey, product in sorted(remote.products.items()):
        if pkey.address in remote.unreadable:
            continue
        if not selected(pkey.address, pkey.sku):
            chosen.not_targeted += 1
        elif product.active or options.include_inactive:
            chosen.resources.add_product(product)
        elif pkey.sku in referenced:
            chosen.resources.add_product(product)
            chosen.kept_for_references.append(pkey.sku)
        else:
            chosen.skipped_inactive_products += 1
    return chosen


def _referenced_skus(boms: Iterable[Bom]) -> set[str]:
    found: set[str] = set()
    for bom in boms:
        found.add(bom.sku)
        found.update(bom.component_skus)
    return found


# ---- writing -------------------------------------------------------------------------------


def write_imported(
    out_dir: Path,
    *,
    resources: ResourceSet,
    source: Settings,
    env_name: str,
    client_id: str,
    options: ImportOptions,
    replacing: Sequence[Path] = (),
    kept_settings: KeptSettings | None = None,
) -> list[Path]:
    """Write reconcile.yaml (unless ``kept_settings``) and the catalog files in place of
    ``replacing``; return the paths written. A failed write puts the old files back."""
    from reconcile.desired import write_catalog

    settings_file = out_dir / SETTINGS_FILE
    saved = {path: path.read_bytes() for path in replacing}
    if kept_settings is not None:
        saved[settings_file] = kept_settings.text
    for path in saved:
        path.unlink()
    try:
        written = write_catalog(
            out_dir,
            resources,
            settings=imported_settings(source, env_name, client_id),
            split_by=options.split_by,
        )
    except BaseException:
        for path, text in saved.items():
            path.write_bytes(text)
        raise
    if kept_settings is not None:
        settings_file.write_bytes(kept_settings.text)
        written.remove(settings_file)
    ignore = out_dir / ".gitignore"
    if not ignore.exists():  # the embedded sandbox's state is local, never committed
        ignore.write_text(f"{SANDBOX_DIR}/\n", encoding="utf-8")
    return written


def imported_settings(source: Settings, env_name: str, client_id: str) -> Settings:
    """reconcile.yaml of the new catalog: the client, and the environment it came from
    as the default (its definition copied unless it is built in)."""
    environments = {}
    if env_name in source.environments:
        environments[env_name] = source.environments[env_name]
    return Settings(client_id=client_id, default_environment=env_name, environments=environments)
