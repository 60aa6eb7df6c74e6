"""remote/apply.py against the in-process emulator: batching, confirmation, interruption."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx2 as httpx
from pydantic import SecretStr
from starlette.applications import Starlette

from reconcile.models import Bom, BomComponent, Product, ProductDetails, ResourceSet
from reconcile.plan.build import build_plan
from reconcile.plan.freshness import check_freshness
from reconcile.remote.apply import apply_changes
from reconcile.remote.client import PBClient
from reconcile.remote.fetch import fetch_current_state
from reconcile.remote.report import ApplyReport
from reconcile.sandbox import SandboxConfig, Store
from reconcile.settings import Credentials, Limits

T = TypeVar("T")
CLIENT = "ACME"
Sandbox = tuple[Starlette, Store, SandboxConfig]


def run(sandbox: Sandbox, work: Callable[[PBClient], Awaitable[T]]) -> T:
    app, _, config = sandbox

    async def main() -> T:
        client = PBClient(
            base_url="http://sandbox",
            credentials=Credentials(SecretStr(config.key), SecretStr(config.secret)),
            limits=Limits(requests_per_second=100, max_in_flight=4),
            environment="test",
            transport=httpx.ASGITransport(app=app),
        )
        async with client:
            return await work(client)

    return asyncio.run(main())


def item(sku: str, **fields: Any) -> Product:
    return Product(
        clientId=CLIENT,
        sku=sku,
        productType=fields.pop("productType", "ITEM"),
        details=ProductDetails(description=fields.pop("description", sku)),
        **fields,
    )


def catalog(*resources: Product | Bom) -> ResourceSet:
    result = ResourceSet()
    for r in resources:
        if isinstance(r, Product):
            result.add_product(r)
        else:
            result.add_bom(r)
    return result


KIT_BOM = Bom(
    clientId=CLIENT,
    sku="KIT",
    description="kit",
    billOfMaterialDetails=[BomComponent(sku="P0", quantity=1)],
)


async def plan_and_apply(
    client: PBClient, desired: ResourceSet, bulk_size: int = 200, progress: Any = None
) -> ApplyReport:
    current = await fetch_current_state(client, CLIENT, desired_skus=())
    plan = build_plan(desired, current, environment="test", client_id=CLIENT)
    kwargs = {"progress": progress} if progress is not None else {}
    return await apply_changes(
        client, plan.changes, client_id=CLIENT, bulk_size=bulk_size, **kwargs
    )


class TestBatches:
    """Products go through the bulk endpoint in batches of at most bulk_size."""

    def test_batches_respect_bulk_size(self, inprocess_sandbox: Sandbox) -> None:
        """Five products with bulk_size 2 take three bulk calls, all confirmed done."""
        desired = catalog(*(item(f"P{i}") for i in range(5)))

        async def work(client: PBClient) -> tuple[ApplyReport, int]:
            report = await plan_and_apply(client, desired, bulk_size=2)
            return report, report.requests

        report, _ = run(inprocess_sandbox, work)
        assert [r.status for r in report.results] == ["done"] * 5
        bulk_calls = sum(
            row["count"]
            for row in _stats(inprocess_sandbox)["by_route"]
            if row["route"].endswith("/products/bulk")
        )
        assert bulk_calls == 3


def _stats(sandbox: Sandbox) -> dict[str, Any]:
    from reconcile.sandbox import sandbox_of

    stats: dict[str, Any] = sandbox_of(sandbox[0]).traffic.stats()
    return stats


class _CancelAfterFirstResult:
    """A progress sink that presses Ctrl-C (cancels the apply) once one change is settled."""

    def __init__(self) -> None:
        self.task: asyncio.Task[Any] | None = None

    def update(self, task: str, *, advance: int = 0, total: int | None = None) -> None:
        if task == "apply" and advance and self.task is not None:
            self.task.cancel()
            self.task = None

    def done(self, task: str) -> None:
        pass

    def note(self, message: str) -> None:
        pass


class TestInterruption:
    """Ctrl-C stops new writes, lets those in flight land, and reports honestly."""

    def test_cancel_reports_done_and_not_started(self, inprocess_sandbox: Sandbox) -> None:
        """After a cancel, writes in flight are confirmed; later work is not started."""
        desired = catalog(*(item(f"P{i}") for i in range(12)), item("KIT", productType="KIT"))
        desired.add_bom(KIT_BOM)
        sink = _CancelAfterFirstResult()

        async def work(client: PBClient) -> tuple[ApplyReport, ResourceSet]:
            sink.task = asyncio.ensure_future(
                plan_and_apply(client, desired, bulk_size=1, progress=sink)
            )
            report = await sink.task
            return report, await fetch_current_state(client, CLIENT, desired_skus=())

        report, held = run(inprocess_sandbox, work)
        assert report.interrupted and not report.succeeded
        by_status = {r.address: r.status for r in report.results}
        assert by_status["bom.KIT"] == "not started"
        assert "failed" not in by_status.values()
        done = {a for a, s in by_status.items() if s == "done"}
        assert done == {k.address for k in held.products}, "report matches what PB holds"
        assert 1 <= len(done) < 13
        assert any(a.startswith("product.") and s == "not started" for a, s in by_status.items())


class TestStaleReasons:
    """The precondition check of saved plans, on values."""

    def test_unchanged_remote_is_not_stale(self, inprocess_sandbox: Sandbox) -> None:
        """Re-reading the same remote state finds nothing stale."""

        async def work(client: PBClient) -> list[str]:
            await plan_and_apply(client, catalog(item("A")))
            current = await fetch_current_state(client, CLIENT, desired_skus=())
            plan = build_plan(
                catalog(item("A", description="new")), current, environment="t", client_id=CLIENT
            )
            return check_freshness(plan.changes, current).stale

        assert run(inprocess_sandbox, work) == []

    def test_digest_used_without_update_date(self) -> None:
        """Without pbUpdateDate, a changed object is detected through its digest."""
        before = catalog(item("A"))
        plan = build_plan(
            catalog(item("A", description="x")), before, environment="t", client_id=CLIENT
        )
        assert plan.changes[0].precondition is not None
        assert check_freshness(plan.changes, before).stale == []
        changed = catalog(item("A", description="someone"))
        assert check_freshness(plan.changes, changed).stale == [
            "product.A: its content in PB changed since the plan"
        ]
        assert check_freshness(plan.changes, ResourceSet()).stale == [
            "product.A: no longer found in PB"
        ]


class TestConfirmationCompare:
    """The confirming re-read compares as the diff does: absent and null are alike."""

    def test_null_detail_pb_drops_still_counts_as_done(self, inprocess_sandbox: Sandbox) -> None:
        """A change whose after holds a null inside details converges, and is reported done."""
        desired = catalog(item("A"))

        async def work(client: PBClient) -> ApplyReport:
            current = await fetch_current_state(client, CLIENT, desired_skus=())
            plan = build_plan(desired, current, environment="test", client_id=CLIENT)
            (change,) = plan.changes
            assert change.after is not None
            details = {**change.after["details"], "color": None}
            nulled = change.model_copy(update={"after": {**change.after, "details": details}})
            return await apply_changes(client, [nulled], client_id=CLIENT)

        report = run(inprocess_sandbox, work)
        assert [(r.status, r.message) for r in report.results] == [("done", "")]
