"""The probe's requests: raw searches and GETs through the client, read leniently."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from reconcile.errors import RemoteError
from reconcile.probe.check import Facts, Json, shown
from reconcile.remote import answers, wire
from reconcile.remote.client import PBClient
from reconcile.remote.raw import RawAnswer

SEARCH_PATHS = {
    "products": wire.PRODUCTS_SEARCH_PATH,
    "boms": wire.BOMS_SEARCH_PATH,
    "inventory": wire.INVENTORY_SNAPSHOT_PATH,
}
SAMPLE_SIZE = 100


class Unanswered(Exception):
    """A request that got no usable answer (the network, PB failing): the check is unknown."""


@dataclass
class Probe:
    """One probe run: the open client, the client id, and the facts learnt so far."""

    client: PBClient
    client_id: str
    facts: Facts

    async def send(
        self, method: str, path: str, *, params: Json | None = None, body: Any = None
    ) -> RawAnswer:
        try:
            return await self.client.raw(method, path, params=params, body=body)
        except RemoteError as e:
            raise Unanswered(f"{method} {path}: {e}") from e

    async def search(
        self,
        kind: str,
        page: int,
        size: int,
        fields: list[Json] | None = None,
        sort: list[str] | None = None,
    ) -> RawAnswer:
        """One page of a search; products get the wide date window unless ``fields``."""
        if fields is None:
            fields = wire.product_window_search_fields() if kind == "products" else []
        body: Json = {"clientId": self.client_id, wire.SEARCH_FIELDS_FIELD: fields}
        body[wire.SORT_FIELD] = sort if sort is not None else list(wire.SEARCH_SORT[kind])
        params = {wire.PAGE_PARAM: page, wire.SIZE_PARAM: size}
        return await self.send("POST", SEARCH_PATHS[kind], params=params, body=body)

    async def items(
        self, kind: str, size: int = SAMPLE_SIZE, fields: list[Json] | None = None
    ) -> list[Json]:
        """The results of the first page (as far as the probe learnt which page that is)."""
        first = self.facts.first_page if self.facts.first_page is not None else wire.FIRST_PAGE
        answer = await self.search(kind, first, size, fields)
        return results(answer, kind)

    async def get_product(self, sku: str) -> RawAnswer:
        path = f"{wire.PRODUCTS_PATH}/{quote(sku, safe='')}"
        return await self.send("GET", path, params={wire.CLIENT_ID_PARAM: self.client_id})

    async def get_bom(self, bom_id: str) -> RawAnswer:
        return await self.send("GET", f"{wire.BOMS_PATH}/{quote(bom_id, safe='')}")


def results(answer: RawAnswer, kind: str) -> list[Json]:
    """The results of a search answer, by reconcile's candidate names; [] when none."""
    obj = answer.obj
    if answer.status != 200 or obj is None:
        return []
    return answers.results_of(obj, kind)


def answered(answer: RawAnswer) -> str:
    """What PB answered, in a few words (status, and the error or body start)."""
    return f"HTTP {answer.status} {shown(answer.body if answer.body is not None else answer.text)}"


def skus(items: list[Json]) -> list[str]:
    return [str(item.get("sku")) for item in items]


def bom_identity(item: Json) -> str:
    """A BOM's id when it has one, else its whole content (a renamed id field)."""
    bom_id = item.get(wire.BOM_ID_FIELD)
    return f"id {bom_id}" if bom_id is not None else shown(item, 10_000)
