"""The pipeline on one page: load → fetch → diff → plan → check → apply → verify.

Loading the YAML and fetching PB's state overlap: settings are read first (they name
the client and the environment), the catalog then loads in a worker thread while the
searches run, and the two join before the diff. The engine never prints; it reports
through a ``Progress`` and returns values the CLI renders.

The apply policy lives here too, in one place: an environment that requires a reviewed
plan file, the safety thresholds (on a plan made in this run, and recounted for a saved
one) and the checks that a saved plan still targets what it was made against.
"""

from __future__ import annotations

import asyncio
import os
import shlex
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from reconcile.desired import Catalog, load_catalog, load_settings
from reconcile.environments import ConnectionInfo, connect
from reconcile.errors import Problem, RemoteError, StalePlan, UsageError
from reconcile.models import ResourceSet
from reconcile.plan.build import build_plan
from reconcile.plan.change import PlanWarning
from reconcile.plan.freshness import Freshness, check_freshness
from reconcile.plan.plan import ExistingCounts, Plan
from reconcile.plan.warnings import add_inventory_warnings
from reconcile.remote.apply import apply_changes
from reconcile.remote.client import PBClient
from reconcile.remote.fetch import SEARCH_BATCH, fetch_current_state, reread
from reconcile.remote.inventory import fetch_inventory
from reconcile.remote.progress import NO_PROGRESS, Progress
from reconcile.remote.report import ApplyReport
from reconcile.remote.totals import count_existing
from reconcile.settings import Environment, Settings


@dataclass(frozen=True)
class PlanResult:
    """A plan and what it was made from: enough to apply it in the same run."""

    plan: Plan
    directory: Path
    settings: Settings
    connection: ConnectionInfo
    catalog_warnings: Sequence[Problem]
    requests: int


async def make_plan(
    directory: Path,
    *,
    env: str | None = None,
    prune: bool | None = None,
    targets: Sequence[str] = (),
    excludes: Sequence[str] = (),
    progress: Progress = NO_PROGRESS,
    environ: Mapping[str, str] = os.environ,
) -> PlanResult:
    """Load the catalog and PB's state for it (concurrently) and decide every change."""
    settings, client, info = _connect(directory, env, environ)
    env_name = info.environment
    async with client:
        progress.note(f"Reading the catalog in {directory} and PB's state ({env_name})…")
        loading = asyncio.create_task(asyncio.to_thread(load_catalog, directory, settings=settings))
        client_id = settings.client_id or (await loading).client_id
        current = await _fetch_while_loading(client, client_id, loading, progress)
        catalog = await loading  # its client id is the settings' one when they name one
        plan = build_plan(
            catalog.resources,
            current,
            environment=env_name,
            client_id=client_id,
            prune=settings.prune if prune is None else prune,
            base_url=_base_url(info),
            sandbox_file=info.sandbox_file,
            targets=targets,
            excludes=excludes,
        )
        plan = await _with_inventory(client, plan)
        return PlanResult(
            plan, directory, settings, info, list(catalog.problems), client.request_count
        )


async def _with_inventory(client: PBClient, plan: Plan) -> Plan:
    """The plan plus a warning per deactivated product with stock on hand.

    Inventory only feeds warnings, so a failed snapshot read becomes one warning saying
    the check could not be made, never a failed plan.
    """
    skus = plan.deactivated_product_skus()
    if not skus:
        return plan
    try:
        stock = await fetch_inventory(client, plan.client_id, skus)
    except RemoteError as e:
        unchecked = PlanWarning(
            address="inventory",
            message=f"inventory could not be checked: {e}. The stock on hand of the "
            f"{len(skus)} products this plan deactivates is unknown",
        )
        return plan.model_copy(update={"warnings": [*plan.warnings, unchecked]})
    return add_inventory_warnings(plan, stock)


def _connect(
    directory: Path, env: str | None, environ: Mapping[str, str]
) -> tuple[Settings, PBClient, ConnectionInfo]:
    """The catalog's settings and a (not yet opened) client for the chosen environment."""
    settings = load_settings(directory)
    client, info = connect(settings, env, catalog_dir=directory, environ=environ)
    return settings, client, info


async def _fetch_while_loading(
    client: PBClient, client_id: str, loading: asyncio.Task[Catalog], progress: Progress
) -> ResourceSet:
    """Fetch PB's state; a broken catalog is reported before any remote failure."""
    try:
        return await fetch_current_state(
            client, client_id, desired_skus=partial(_skus_when_loaded, loading), progress=progress
        )
    except BaseException:
        await asyncio.wait([loading])
        loading.result()  # raises the CatalogError, if any: it is the error to fix first
        raise


async def _skus_when_loaded(loading: asyncio.Task[Catalog]) -> Collection[str]:
    return _product_skus(await loading)


def _product_skus(catalog: Catalog) -> Collection[str]:
    return {key.sku for key in catalog.resources.products}


async def apply_planned(
    result: PlanResult,
    *,
    recheck: bool = False,
    progress: Progress = NO_PROGRESS,
    environ: Mapping[str, str] = os.environ,
) -> ApplyReport:
    """Apply a plan made (and approved) in this run.

    ``recheck`` re-reads the planned resources first and refuses the plan if PB changed
    under it (exit 7), as for a saved plan: use it when the plan waited for a human's
    confirmation (which may take hours). ``apply --auto-approve`` applies a plan made
    moments ago and skips it, saving one search per 100 planned resources.
    """
    plan, settings = result.plan, result.settings
    client, _ = connect(settings, plan.environment, catalog_dir=result.directory, environ=environ)
    async with client:
        fresh = Freshness(frozenset(), [])
        if recheck:
            fresh = await _still_fresh(
                client,
                plan,
                progress,
                "PB changed since the plan was shown; nothing was applied",
                "Run apply again to plan against PB's current state.",
            )
        return await _apply(client, plan, settings, fresh, progress)


async def apply_saved_plan(
    directory: Path,
    plan: Plan,
    *,
    env: str | None = None,
    force: bool = False,
    progress: Progress = NO_PROGRESS,
    environ: Mapping[str, str] = os.environ,
) -> ApplyReport:
    """Apply exactly a reviewed plan, refusing it whole if PB changed under it (exit 7)."""
    settings, client, info = _connect(directory, env, environ)
    env_name = info.environment
    client_id = settings.client_id or load_catalog(directory, settings=settings).client_id
    _check_plan_target(plan, env_name, client_id, info)
    async with client:
        if not force:
            await _raise_if_unsafe_now(client, plan, settings, progress)
        fresh = await _still_fresh(
            client,
            plan,
            progress,
            "the saved plan is stale; nothing was applied",
            "Make a new plan (`reconcile plan --out FILE`) and review it again.",
        )
        # Announced only once every check passed: never "Applying …" before a refusal.
        progress.note(
            f"Applying the saved plan ({len(plan.changes)} changes, fingerprint "
            f"{plan.short_fingerprint()}) to {env_name}…"
        )
        return await _apply(client, plan, settings, fresh, progress)


async def _apply(
    client: PBClient, plan: Plan, settings: Settings, fresh: Freshness, progress: Progress
) -> ApplyReport:
    return await apply_changes(
        client,
        plan.changes,
        client_id=plan.client_id,
        already_applied=fresh.applied,
        bulk_size=settings.limits.bulk_size,
        progress=progress,
    )


# ---- the apply policy: what may be applied, checked before any write ----


def environment_of(directory: Path, env: str | None) -> tuple[str, Environment]:
    """The environment ``--env`` (or the catalog's default) names, as reconcile.yaml says."""
    return load_settings(directory).environment(env)


def refuse_unreviewed_apply(directory: Path, env: str | None) -> None:
    """Refuse (64) an apply without a saved plan where the environment applies only
    reviewed plans (``require_plan_file: true``); the message says how to make one."""
    env_name, environment = environment_of(directory, env)
    if environment.require_plan_file:
        raise UsageError(
            f"environment {env_name!r} applies only reviewed plans (require_plan_file: true). "
            f"Run `{shlex.join(['reconcile', 'plan', str(directory), '--env', env_name])} "
            f"--out plan.json`, review it, then "
            f"`{apply_plan_command(directory, env_name, Path('plan.json'))}`"
        )


def refuse_if_unsafe(result: PlanResult, *, force: bool) -> None:
    """Refuse (exit 6) a plan made in this run that breaks a safety threshold, unless
    ``force`` (--force). A saved plan is checked by ``apply_saved_plan`` itself."""
    if not force:
        result.plan.raise_if_unsafe(result.settings.safety)


def apply_plan_command(directory: Path, env: str | None, plan_file: Path) -> str:
    """The shell command that applies a saved plan (``--env`` only when given), quoted
    so that it can be pasted whatever the paths hold."""
    words = ["reconcile", "apply", str(directory)]
    if env is not None:
        words += ["--env", env]
    return shlex.join([*words, "--plan", str(plan_file)])


async def _raise_if_unsafe_now(
    client: PBClient, plan: Plan, settings: Settings, progress: Progress
) -> None:
    """A saved plan's safety check, with the denominators PB holds now (exit 6).

    The plan file's ``existing`` counts are not trusted: an edited file could raise them
    to pass the thresholds. Counting costs one one-item search page per kind.
    """
    progress.note("Counting what PB holds, for the safety check…")
    products, boms = await count_existing(client, plan.client_id)
    now = plan.model_copy(update={"existing": ExistingCounts(product=products, bom=boms)})
    now.raise_if_unsafe(settings.safety)


async def _still_fresh(
    client: PBClient, plan: Plan, progress: Progress, headline: str, advice: str
) -> Freshness:
    """Re-read the planned resources: which changes are still to do or already done.

    Any stale one refuses the whole plan (``StalePlan``, exit 7) with ``headline``, one
    line per stale resource, and ``advice``.
    """
    progress.note(
        f"Checking the {len(plan.changes)} planned resources in PB, so that nothing changed "
        f"since the plan is overwritten (one search per {SEARCH_BATCH} resources)…"
    )
    current = await reread(client, plan.client_id, plan.changes, progress)
    fresh = check_freshness(plan.changes, current)
    if fresh.stale:
        raise StalePlan(
            f"{headline}. Changed in PB since the plan was made:"
            + "".join(f"\n  - {line}" for line in fresh.stale)
            + f"\n{advice}"
        )
    return fresh


def _check_plan_target(plan: Plan, env_name: str, client_id: str, info: ConnectionInfo) -> None:
    """A plan made for one environment, client, PB host or sandbox file never applies to
    another (checked before anything is sent)."""
    made_for = (plan.environment, plan.client_id, _resolved(plan.sandbox_file))
    here = (env_name, client_id, _resolved(info.sandbox_file))
    if made_for != here:
        raise StalePlan(
            f"the saved plan was made for environment {plan.environment!r}, client "
            f"{plan.client_id!r}{_file(plan.sandbox_file)}, but this apply targets "
            f"environment {env_name!r}, client {client_id!r}{_file(info.sandbox_file)}; "
            f"apply it with --env {plan.environment} from its catalog, or make a new plan"
        )
    if _host(plan.base_url) != _host(_base_url(info)):
        raise StalePlan(
            f"the saved plan was made against {_where(plan.base_url)}, but environment "
            f"{env_name!r} now points at {_where(_base_url(info))} (reconcile.yaml); "
            "nothing was applied. Make a new plan against this host and review it again"
        )


def _base_url(info: ConnectionInfo) -> str | None:
    """The PB host a plan records: None for the embedded sandbox (its file names it)."""
    return None if info.embedded else info.base_url


def _host(base_url: str | None) -> str | None:
    return None if base_url is None else base_url.rstrip("/")


def _where(base_url: str | None) -> str:
    return f"PB at {base_url}" if base_url else "the embedded sandbox (no PB host)"


def _resolved(sandbox_file: str | None) -> Path | None:
    return None if sandbox_file is None else Path(sandbox_file).resolve()


def _file(sandbox_file: str | None) -> str:
    return f" (sandbox file {sandbox_file})" if sandbox_file else ""
