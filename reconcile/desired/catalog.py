"""Loading a catalog directory: reconcile.yaml plus every YAML file below it.

The whole catalog is checked before anything is returned, and every problem is
reported at once: :class:`reconcile.errors.CatalogError` carries them all, each at
``path:line:col``. Warnings (a kit or component the catalog does not declare, which
may exist in PB) ride along on :attr:`Catalog.problems`.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, TypeAdapter, ValidationError

from reconcile.desired.checks import Declared, Rejected, check_nodes, check_references
from reconcile.desired.messages import KEY_ERRORS, describe, did_you_mean, type_name
from reconcile.desired.source import SourceFile, check_plain_values, display_path, read_source
from reconcile.desired.walk import walk_catalog
from reconcile.errors import CatalogError, Problem, SettingsError
from reconcile.models import Bom, Product, ResourceSet
from reconcile.settings import SETTINGS_FILE, Limits, Settings, known_fulfillment_centers

Section = Literal["products", "boms"]
SECTIONS: tuple[Section, ...] = ("products", "boms")
_MODELS: dict[Section, type[Product] | type[Bom]] = {"products": Product, "boms": Bom}
_ADAPTERS: dict[Section, TypeAdapter[Any]] = {
    "products": TypeAdapter(list[Product]),
    "boms": TypeAdapter(list[Bom]),
}
SETTINGS_EXAMPLE = "client_id: YOUR-PB-CLIENT-ID"


@dataclass
class Catalog:
    """A valid catalog: its settings, its resources, and the warnings found on the way."""

    directory: Path
    settings: Settings
    resources: ResourceSet
    client_id: str
    files: list[Path] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def load_settings(directory: Path) -> Settings:
    """Read ``directory/reconcile.yaml``; raise SettingsError with every problem located."""
    directory = Path(directory)
    _require_directory(directory)
    path = directory / SETTINGS_FILE
    if not path.is_file():
        raise SettingsError([Problem(display_path(path), 0, 0, _missing_settings(directory))])
    limits = Limits()
    source = read_source(
        path,
        max_bytes=limits.max_file_bytes,
        max_depth=limits.max_depth,
        empty=f"file is empty; add at least the line `{SETTINGS_EXAMPLE}`",
    )
    settings = None if source.unreadable else _validate_settings(source)
    if settings is None or _errors(source.problems):
        raise SettingsError(source.problems)
    return settings


def _missing_settings(directory: Path) -> str:
    if (directory / "reconcile.yml").is_file():
        return f"missing: found reconcile.yml; rename it to {SETTINGS_FILE}"
    return (
        f"missing: every catalog directory needs a {SETTINGS_FILE}; create it with at least "
        f"the line `{SETTINGS_EXAMPLE}`"
    )


def _validate_settings(source: SourceFile) -> Settings | None:
    data = {} if source.data is None else source.data
    if not isinstance(data, dict):
        source.problem(
            1, 1, f"{SETTINGS_FILE} must be a mapping of settings, not a {type_name(data)}"
        )
        return None
    try:
        return Settings.model_validate(data)
    except ValidationError as e:
        _report_validation(source, e, Settings, ())
        return None


def _require_directory(directory: Path) -> None:
    if not directory.exists():
        raise CatalogError(
            [Problem(display_path(directory), 0, 0, "catalog directory does not exist")]
        )
    if not directory.is_dir():
        raise CatalogError(
            [
                Problem(
                    display_path(directory),
                    0,
                    0,
                    "not a directory: a catalog is a directory holding reconcile.yaml",
                )
            ]
        )


@contextmanager
def _without_cyclic_gc() -> Iterator[None]:
    """Pause the cycle collector: loading builds millions of acyclic objects, and its
    repeated full scans of them doubled the time to load 100,000 products."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_catalog(directory: Path, *, settings: Settings | None = None) -> Catalog:
    """Load and check a catalog directory; raise CatalogError carrying every problem."""
    directory = Path(directory)
    _require_directory(directory)
    settings = settings if settings is not None else load_settings(directory)
    with _without_cyclic_gc():
        return _load(directory, settings)


def _load(directory: Path, settings: Settings) -> Catalog:
    walk = walk_catalog(directory)
    files = walk.files
    sources = [
        read_source(
            path, max_bytes=settings.limits.max_file_bytes, max_depth=settings.limits.max_depth
        )
        for path in files
    ]
    entries = [e for source in sources for e in _validate_file(source, settings.client_id)]
    declared = [e for e in entries if isinstance(e, Declared)]
    client_id = _catalog_client(settings, declared)
    problems = walk.problems + [p for source in sources for p in source.problems]
    if client_id is None:
        path = display_path(directory / SETTINGS_FILE)
        problems.append(Problem(path, 1, 1, f"client_id is not set; add `{SETTINGS_EXAMPLE}`"))
    else:
        problems += check_references(entries, client_id, from_settings=bool(settings.client_id))
        problems += check_nodes(entries, known_fulfillment_centers(settings))
    problems.sort(key=lambda p: (p.path, p.line, p.col))
    if _errors(problems) or client_id is None:  # a catalog is loaded whole or not at all
        raise CatalogError(problems)
    return Catalog(
        directory=directory,
        settings=settings,
        resources=_resource_set(declared),
        client_id=client_id,
        files=files,
        problems=problems,
    )


def _errors(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


def _validate_file(source: SourceFile, client_id: str | None) -> list[Declared | Rejected]:
    data = source.data
    if source.unreadable:
        return []
    if data is None:
        only_comments = all(
            line.lstrip().startswith("#") for line in source.text.splitlines() if line.strip()
        )
        what = "holds only comments" if only_comments else "holds an empty document"
        source.problem(1, 1, f"file {what} and declares nothing", severity="warning")
        return []
    if not isinstance(data, dict):
        source.problem(
            1,
            1,
            "a catalog file is a mapping with `products:` and/or `boms:` lists, "
            f"not a {type_name(data)}",
        )
        return []
    for key in data:
        if key not in SECTIONS:
            source.at(
                (key,),
                f"unknown top-level key {key!r}{did_you_mean(str(key), SECTIONS)}",
                at_key=True,
            )
    entries: list[Declared | Rejected] = []
    for section in SECTIONS:
        if section in data:
            entries += _validate_section(source, section, data[section], client_id)
    source.data = None  # the models hold everything now; free the plain tree
    return entries


def _validate_section(
    source: SourceFile, section: Section, items: Any, client_id: str | None
) -> list[Declared | Rejected]:
    if not isinstance(items, list):
        empty = " (write `[]` for none)" if items is None else ""
        source.at((section,), f"{section} must be a list, got {type_name(items)}{empty}")
        return []
    if client_id is not None:
        for item in items:
            if isinstance(item, dict) and "clientId" not in item:
                item["clientId"] = client_id
    try:
        models = _ADAPTERS[section].validate_python(items)
        return _declare(source, section, items, enumerate(models))
    except ValidationError:
        return _declare(source, section, items, _validate_each(source, section, items))


def _validate_each(
    source: SourceFile, section: Section, items: list[Any]
) -> Iterable[tuple[int, Product | Bom | None]]:
    """Item by item, so that one bad item does not hide the good ones from cross checks;
    a bad item yields None."""
    model = _MODELS[section]
    for index, item in enumerate(items):
        try:
            yield index, model.model_validate(item)
        except ValidationError as e:
            _report_validation(source, e, model, (section, index))
            yield index, None


def _report_validation(
    source: SourceFile,
    error: ValidationError,
    model: type[BaseModel],
    prefix: tuple[str | int, ...],
) -> None:
    for detail in error.errors(include_url=False):
        loc = tuple(detail["loc"])
        message = describe(detail, model, loc)
        if detail["type"] == "missing" and loc == ("clientId",):
            message += f": set it here, or `client_id` in {SETTINGS_FILE}"
        source.at((*prefix, *loc), message, at_key=detail["type"] in KEY_ERRORS)


def _declare(
    source: SourceFile,
    section: Section,
    items: list[Any],
    models: Iterable[tuple[int, Product | Bom | None]],
) -> list[Declared | Rejected]:
    entries: list[Declared | Rejected] = []
    for index, model in models:
        raw, loc = items[index], (section, index)
        if model is None:  # an invalid item still counts for the duplicate check
            rejected = Rejected.read(raw, is_bom=section == "boms", source=source, loc=loc)
            entries += [rejected] if rejected else []
            continue
        components: tuple[str, ...] = ()
        if isinstance(model, Bom):
            components = tuple(c.get("sku", "") for c in raw["billOfMaterialDetails"])
        _check_extras(source, loc, model)
        entries.append(Declared(model, source, loc, components))
    return entries


def _check_extras(source: SourceFile, loc: tuple[str | int, ...], model: Product | Bom) -> None:
    if not isinstance(model, Product):
        return
    if model.details.model_extra:
        check_plain_values(source, (*loc, "details"), model.details.model_extra)
    for i, option in enumerate(model.options or ()):
        if option.model_extra:
            check_plain_values(source, (*loc, "options", i), option.model_extra)


def _catalog_client(settings: Settings, declared: list[Declared]) -> str | None:
    """The one client of the catalog: reconcile.yaml's, else the first its resources name."""
    if settings.client_id is not None:
        return settings.client_id
    return declared[0].model.clientId if declared else None


def _resource_set(declared: list[Declared]) -> ResourceSet:
    resources = ResourceSet()
    for d in declared:
        if isinstance(d.model, Product):
            resources.products.setdefault(d.model.key, d.model)
        else:
            resources.boms.setdefault(d.model.key, d.model)
    return resources
