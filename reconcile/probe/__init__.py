"""``reconcile probe``: do this tool's wire assumptions hold for this PB account?

Read-only by default (searches and GETs, plus the token request), so it is safe on
production. Each check is passed, failed (what PB answered, what it means for plan and
apply, what to change) or unknown (cannot be decided on this account). ``--write`` adds
checks on throwaway ``RCPROBE-<run>`` objects, deactivated at the end. The checks:
``accounts`` (token, merchants, access), ``searches``, ``objects``, ``boms``, ``writes``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from reconcile.environments import connect
from reconcile.errors import SettingsError, UsageError
from reconcile.probe import accounts, boms, objects, searches, writes
from reconcile.probe.check import Check, Facts, Verdict, exit_code, unknown
from reconcile.probe.record import Recorder
from reconcile.probe.session import Probe, Unanswered
from reconcile.remote.raw import Exchange
from reconcile.settings import Settings, developer_id_for, developer_id_variables

__all__ = ["Check", "ProbeOptions", "exit_code", "run_probe"]

Step = Callable[[Probe], Awaitable[Verdict]]
#: A probe should answer in minutes: a couple of attempts per request, not a full budget.
RETRY_ATTEMPTS, RETRY_TIMEOUT_SECONDS = 2, 15.0

READ_STEPS: list[tuple[str, Step]] = [
    ("search envelope", searches.envelope),
    ("stable order", searches.stable_order),
    ("paging", searches.paging),
    ("page size", searches.page_size),
    ("date window", searches.date_window),
    ("sku search", searches.sku_field),
    ("objects", objects.models),
    ("get product", objects.get_product),
    ("absent product", objects.absent_product),
    ("error object", searches.error_object),
    ("bom includeInactive", boms.include_inactive),
    ("bom kit filter", boms.kit_filter),
    ("bom id field", boms.id_field),
    ("bom components", boms.components),
    ("get bom by id", boms.get_by_id),
    ("inventory", objects.inventory),
]
WRITE_STEPS: list[tuple[str, Callable[[writes.Writes], Awaitable[Verdict]]]] = [
    ("write: duplicate create", writes.duplicate_create),
    ("write: full replacement", writes.full_replacement),
    ("write: bulk results", writes.bulk_results),
    ("write: bom create", writes.bom_create),
    ("write: index lag", writes.index_lag),
    ("write: get bom by id", writes.get_bom_by_id),
    ("write: inactive product", writes.inactive_product),
]
#: Where the sample of products and BOMs is read (after the page rules are known).
SAMPLE_AFTER = "page size"


@dataclass(frozen=True)
class ProbeOptions:
    write: bool = False
    record: Path | None = None
    #: --write: searches (and the pause between them) to wait for new objects to appear.
    poll_attempts: int = 10
    poll_interval: float = 3.0
    sleep: writes.Sleep | None = None
    prefix: str = field(default_factory=writes.run_prefix)


def write_refusal(settings: Settings, env_name: str | None) -> None:
    """``--write`` is refused where only reviewed plans may change PB."""
    name, environment = settings.environment(env_name)
    if environment.require_plan_file:
        raise UsageError(
            f"probe --write is refused for environment {name!r} (require_plan_file: true): "
            "its throwaway objects would stay there; run it against a sandbox environment"
        )


async def run_probe(
    settings: Settings,
    env_name: str | None,
    *,
    catalog_dir: Path,
    environ: Mapping[str, str],
    options: ProbeOptions,
) -> list[Check]:
    """Every check, in order; ``SettingsError`` (exit 3) for settings it cannot run with."""
    name, environment = settings.environment(env_name)
    if options.write:
        write_refusal(settings, env_name)
    if not settings.client_id:
        raise SettingsError("reconcile.yaml: probe needs `client_id` (the client to search)")
    quick = settings.model_copy(update={"limits": _quick(settings)})
    client, _ = connect(quick, name, catalog_dir=catalog_dir, environ=environ)
    recorder = Recorder(options.record) if options.record else None
    developer_id = developer_id_for(name, environment, environ)
    variables = " or ".join(developer_id_variables(name))
    exchanges: list[Exchange] = []

    def keep(exchange: Exchange) -> None:
        exchanges.append(exchange)
        if recorder is not None:
            recorder(exchange)

    async with client:
        client.on_exchange(keep)
        probe = Probe(client, settings.client_id, Facts())
        checks = [_named("token", await accounts.token(probe, exchanges))]
        if checks[0].status == "failed":
            return [*checks, *_skipped("needs a token", options)]
        checks.append(
            await _run(
                "merchants", lambda p: accounts.merchant_accounts(p, developer_id, variables), probe
            )
        )
        checks.append(
            await _run(
                "fulfillment access", lambda p: accounts.access(p, developer_id, variables), probe
            )
        )
        if checks[-1].status != "passed":
            return [*checks, *_skipped("needs access to the Fulfillment search", options)]
        checks += await _read_checks(probe)
        if options.write:
            checks += await _write_checks(probe, options)
    return checks


def _quick(settings: Settings) -> object:
    return settings.limits.model_copy(
        update={
            "retry_attempts": RETRY_ATTEMPTS,
            "read_retry_attempts": RETRY_ATTEMPTS,
            "retry_timeout_seconds": RETRY_TIMEOUT_SECONDS,
        }
    )


async def _read_checks(probe: Probe) -> list[Check]:
    checks = []
    for name, step in READ_STEPS:
        checks.append(await _run(name, step, probe))
        if name == SAMPLE_AFTER:
            await _sample(probe)
    return checks


async def _sample(probe: Probe) -> None:
    if not probe.facts.results_readable:
        return
    try:
        probe.facts.products = await probe.items("products")
        await boms.sample_boms(probe)
    except Unanswered:
        return  # the checks needing a sample say `unknown`


async def _write_checks(probe: Probe, options: ProbeOptions) -> list[Check]:
    w = writes.Writes(probe, options.prefix, options.poll_attempts, options.poll_interval)
    if options.sleep is not None:
        w.sleep = options.sleep
    created = await _run("write: create", lambda _: writes.create(w), probe)
    checks = [created]
    if created.status == "passed":
        for name, step in WRITE_STEPS:
            checks.append(await _run(name, _bound(step, w), probe))
    checks.append(await _run("write: cleanup", lambda _: writes.cleanup(w), probe))
    return checks


def _bound(step: Callable[[writes.Writes], Awaitable[Verdict]], w: writes.Writes) -> Step:
    async def run(_: Probe) -> Verdict:
        return await step(w)

    return run


async def _run(name: str, step: Step, probe: Probe) -> Check:
    try:
        return _named(name, await step(probe))
    except Unanswered as e:
        return Check(name, "unknown", f"no usable answer: {e}")


def _named(name: str, verdict: Verdict) -> Check:
    return Check(name, verdict[0], verdict[1])


def _skipped(why: str, options: ProbeOptions) -> list[Check]:
    names = [n for n, _ in READ_STEPS]
    if why == "needs a token":
        names = ["merchants", "fulfillment access", *names]
    if options.write:
        names += ["write: create", *(n for n, _ in WRITE_STEPS), "write: cleanup"]
    return [_named(n, unknown(why)) for n in names]
