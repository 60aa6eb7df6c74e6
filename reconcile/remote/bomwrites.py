"""BOM writes: creates and updates, one request each, under the rules of ``duplicates``
(keys searched again before creating, the first create alone, one survivor per key)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Coroutine, Iterable
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from reconcile.errors import RemoteError
from reconcile.models import Bom, Product, RemoteMeta, comparable
from reconcile.remote import duplicates, wire
from reconcile.remote.concurrency import run_all
from reconcile.remote.fetch import read_boms
from reconcile.remote.report import Status, WriteError

if TYPE_CHECKING:
    from reconcile.plan.change import Change
    from reconcile.remote.client import PBClient


class Run(Protocol):
    """What the BOM phase uses of the apply run it belongs to."""

    client: PBClient
    errors: dict[str, WriteError]

    def dependencies_met(self, change: Change) -> bool: ...
    def record(
        self, change: Change, status: Status, message: str = "", txn: str = "", *, code: str = ""
    ) -> None: ...
    def settle(
        self, change: Change, observed: Product | Bom | None, wanted: Product | Bom
    ) -> None: ...
    def unconfirmed(self, changes: list[Change], error: RemoteError) -> None: ...
    async def write(
        self, changes: list[Change], write: Callable[[], Coroutine[Any, Any, None]]
    ) -> None: ...


class BomWrites:
    """The BOM phase of one apply run."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.created_bom_ids: dict[str, str] = {}
        #: The BOM whose create showed that PB's BOM search does not show new BOMs.
        self.blind_to: str | None = None
        #: Keys whose BOM this run created and kept (the survivor when confirmed).
        self.kept: set[str] = set()

    async def write(self, changes: list[Change]) -> None:
        """Updates at once; creates after their keys are searched again, the first one
        alone (if PB's search cannot see it, no other create is sent), then the rest."""
        runnable = [c for c in changes if self.run.dependencies_met(c)]
        creates = await self._recheck_keys([c for c in runnable if c.action == "create"])
        updates = [c for c in runnable if c.action != "create"]
        first, rest = creates[:1], creates[1:]
        if first:
            await self.run.write(first, partial(self._create_or_update, first[0]))
            await self.confirm(first)
        if self.blind_to is not None:
            for change in rest:
                message = duplicates.SEARCH_BLIND_SKIPPED.format(address=self.blind_to)
                self.run.record(change, "skipped", message)
            rest = []
        await run_all(
            self.run.write([c], partial(self._create_or_update, c)) for c in rest + updates
        )
        await self.confirm(rest + updates)
        await self._reverify(creates)

    async def _reverify(self, creates: list[Change]) -> None:
        """Once every create of the run is confirmed, search the keys this run kept a BOM
        for once more: a second writer's copy committed after our confirming read, but
        created first (same second, lower id), makes ours yield now, as that writer's
        own confirmation expects. One search per batch; a failure leaves the first
        verdicts (the next plan would show any duplicate and offer its clean-up)."""
        kept = [c for c in creates if c.address in self.kept]
        if not kept:
            return
        try:
            found = await read_boms(
                self.run.client, kept[0].key["clientId"], [c.key["sku"] for c in kept]
            )
        except RemoteError:
            return
        grouped = _by_address((b, m) for b, m in found if b.active)
        for change in kept:
            bom_id = self.created_bom_ids[change.address]
            same_key = grouped.get(change.address, [])
            first = duplicates.survivor(same_key)
            ours = next((b for b, m in same_key if m.bom_id == bom_id), None)
            if first is not None and ours is not None and first[1].bom_id != bom_id:
                await self._yield_to(change, bom_id, ours, first)

    async def _recheck_keys(self, creates: list[Change]) -> list[Change]:
        """The creates whose key PB still holds no active BOM for (one filtered search per
        batch). A BOM that appeared since the plan was read is adopted when it equals the
        catalog's, else reported stale; either way it is not created a second time."""
        if not creates:
            return []
        try:
            found = await read_boms(
                self.run.client, creates[0].key["clientId"], [c.key["sku"] for c in creates]
            )
        except RemoteError as e:
            said = WriteError.of(e)
            for change in creates:
                message = f"not created: its key could not be searched again ({said.message})"
                self.run.record(change, "failed", message, said.transaction_id, code=said.code)
            return []
        free = []
        grouped = _by_address((b, m) for b, m in found if b.active)
        for change in creates:
            active = grouped.get(change.address, [])
            if not active:
                free.append(change)
            elif any(comparable(b) == comparable(_bom(change)) for b, _ in active):
                message = (
                    f"PB already holds this BOM (id {duplicates.ids(active)}), created since "
                    "the plan was read: adopted, not created again"
                )
                self.run.record(change, "done", message)
            else:
                message = (
                    f"a BOM for this key appeared in PB since the plan was read (id "
                    f"{duplicates.ids(active)}) and differs from the catalog: not created; "
                    "plan again"
                )
                self.run.record(change, "failed", message)
        return free

    async def _create_or_update(self, change: Change) -> None:
        body = wire.bom_to_wire(_bom(change), change.kept)
        try:
            if change.action == "create":
                answer = await self.run.client.create_bom(body)
                bom_id = wire.bom_id_of(answer) if isinstance(answer, dict) else None
                if bom_id is not None:
                    self.created_bom_ids[change.address] = bom_id
            else:
                await self.run.client.update_bom(_remote_id(change), body)
        except RemoteError as e:
            self.run.errors[change.address] = WriteError.of(e)

    async def confirm(self, changes: list[Change]) -> None:
        if not changes:
            return
        try:
            found = await read_boms(
                self.run.client, changes[0].key["clientId"], [c.key["sku"] for c in changes]
            )
        except RemoteError as e:
            self.run.unconfirmed(changes, e)
            return
        by_id = {meta.bom_id: bom for bom, meta in found if meta.bom_id is not None}
        by_key = {bom.key.address: bom for bom, _ in found}
        grouped = _by_address(found)  # once: per created BOM it would be quadratic
        for change in changes:
            created = self.created_bom_ids.get(change.address)
            if created is not None:
                await self._settle_created(change, created, grouped.get(change.address, []))
                continue
            bom_id = change.remote_id
            observed = by_id.get(bom_id) if bom_id else by_key.get(change.address)
            self.run.settle(change, observed, _bom(change))

    async def _settle_created(
        self, change: Change, bom_id: str, same_key: list[tuple[Bom, RemoteMeta]]
    ) -> None:
        """A BOM this run created: seen by the key search, and the key's survivor?"""
        ours = next((b for b, m in same_key if m.bom_id == bom_id), None)
        if ours is None:
            await self._not_in_search(change, bom_id)
            return
        first = duplicates.survivor((b, m) for b, m in same_key if b.active)
        if first is None or first[1].bom_id == bom_id:
            self.kept.add(change.address)
            self.run.settle(change, ours, _bom(change))
            return
        await self._yield_to(change, bom_id, ours, first)

    async def _not_in_search(self, change: Change, bom_id: str) -> None:
        """PB answered the create with an id, but the key search does not show it."""
        try:
            direct = await self.run.client.get_bom(bom_id)
        except RemoteError as e:
            direct, error = None, WriteError.of(e).message
        else:
            error = "GET by id does not find it either"
        # Either way no later create of this run could be checked: the search that
        # would re-check and confirm it cannot see new BOMs.
        self.blind_to = change.address
        if direct is not None:
            self.run.record(change, "failed", duplicates.SEARCH_BLIND.format(bom_id=bom_id))
        else:
            message = f"PB accepted the create (id {bom_id}), but its BOM search does not show it"
            self.run.record(change, "failed", f"{message} and {error}")

    async def _yield_to(
        self, change: Change, bom_id: str, ours: Bom, first: tuple[Bom, RemoteMeta]
    ) -> None:
        """Another writer created this key's BOM first: deactivate ours, keep theirs."""
        kept = first[1].bom_id
        try:
            inactive = ours.model_copy(update={"active": False})
            await self.run.client.update_bom(bom_id, wire.bom_to_wire(inactive))
        except RemoteError as e:
            said = WriteError.of(e)
            message = (
                f"another writer created this key's BOM first (id {kept}); deactivating this "
                f"run's copy (id {bom_id}) failed ({said.message}): run plan, which offers it"
            )
            self.run.record(change, "failed", message, said.transaction_id, code=said.code)
            return
        yielded = f"deactivated this run's copy (id {bom_id}) and kept id {kept}, created first"
        if comparable(first[0]) == comparable(_bom(change)):
            self.run.record(
                change, "done", f"another run created this BOM at the same time: {yielded}"
            )
        else:
            message = f"another writer created a different BOM for this key at once: {yielded}"
            self.run.record(change, "failed", f"{message}; plan again")


def _bom(change: Change) -> Bom:
    model = change.after_model()
    assert isinstance(model, Bom), f"{change.address}: a BOM change holds a product"
    return model


def _remote_id(change: Change) -> str:
    if change.remote_id is None:
        raise RemoteError(
            "the plan names no billOfMaterialId for this BOM update; make the plan again",
            operation="apply",
            resource=change.address,
        )
    return change.remote_id


def _by_address(
    found: Iterable[tuple[Bom, RemoteMeta]],
) -> dict[str, list[tuple[Bom, RemoteMeta]]]:
    grouped: dict[str, list[tuple[Bom, RemoteMeta]]] = defaultdict(list)
    for bom, meta in found:
        grouped[bom.key.address].append((bom, meta))
    return grouped
