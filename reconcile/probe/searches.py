"""Checks of the search answers: access, envelope, order, paging, page size, the date
window, the SKU field, and the error object of an invalid search."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from reconcile.probe.check import Json, Verdict, failed, keys_of, passed, shown, unknown
from reconcile.probe.session import SEARCH_PATHS, Probe, answered, bom_identity, results, skus
from reconcile.remote import answers, wire
from reconcile.remote.raw import RawAnswer

WALK_PAGE_SIZE = 2
WALK_MAX_PAGES = 10
PAGE_SIZE_ASKED = 1000
SIX_MONTHS = timedelta(days=183)


async def envelope(probe: Probe) -> Verdict:
    """The product and BOM search answers: a results list reconcile recognises, and
    ``totalElements``; first/last and the page echo are reported."""
    said: list[str] = []
    for kind in ("products", "boms"):
        answer = await probe.search(kind, wire.FIRST_PAGE, 5)
        if kind == "products":
            probe.facts.results_readable = _results_field(answer, kind) is not None
        problem = _envelope_problem(answer, kind)
        if problem is not None:
            return failed(f"{kind} search: {problem}")
        said.append(f"{kind}: {_envelope_shape(answer.obj or {}, kind)}")
    return passed("; ".join(said))


def _results_field(answer: RawAnswer, kind: str) -> str | None:
    obj = answer.obj if answer.status == 200 else None
    names = wire.RESULTS_FIELDS[kind]
    return next((n for n in names if obj is not None and isinstance(obj.get(n), list)), None)


def _envelope_problem(answer: RawAnswer, kind: str) -> str | None:
    obj = answer.obj
    if answer.status != 200 or obj is None:
        return f"{answered(answer)}; reconcile cannot read this account's searches"
    names = wire.RESULTS_FIELDS[kind]
    if _results_field(answer, kind) is None:
        lists = [k for k, v in obj.items() if isinstance(v, list)]
        where = (
            f"results under `{lists[0]}`" if lists else f"no results list (keys: {keys_of(obj)})"
        )
        return (
            f"{where}, reconcile reads `{'` or `'.join(names)}`: plan would find nothing and "
            "apply would create everything again (a BOM twice); tell us the field name"
        )
    if answers.count_field(obj, wire.TOTAL_ELEMENTS_FIELD) is None:
        return (
            f"no `totalElements` (keys: {keys_of(obj)}): reconcile cannot know it read every "
            "page, so what it missed would be planned as absent and created again"
        )
    return None


def _envelope_shape(obj: Json, kind: str) -> str:
    field = next(n for n in wire.RESULTS_FIELDS[kind] if isinstance(obj.get(n), list))
    parts = [f"`{field}`", f"totalElements {obj.get('totalElements')}"]
    for extra in ("totalPages", "first", "last", "page", "size"):
        parts.append(f"{extra} {shown(obj.get(extra))}" if extra in obj else f"no {extra}")
    return ", ".join(parts)


async def stable_order(probe: Probe) -> Verdict:
    """Two walks of one search (pages of 2) give the same objects in the same order."""
    if not probe.facts.results_readable:
        return unknown("needs a readable search envelope")
    for kind in ("products", "boms"):
        first, second = await _walk(probe, kind), await _walk(probe, kind)
        if len(first) < 2:
            continue
        if first != second or len(set(first)) != len(first):
            return failed(
                f"two walks of the same {kind} search (sort {wire.SEARCH_SORT[kind][0]}) gave "
                f"{shown(first, 70)} then {shown(second, 70)}: pages can repeat or skip "
                "objects, and a skipped one would be planned as absent",
            )
    if len(await _walk(probe, "products")) < 2:
        return unknown("needs at least 2 products to compare orders")
    probe.facts.stable_order = True
    return passed(f"two walks in pages of {WALK_PAGE_SIZE} gave the same order")


async def _walk(probe: Probe, kind: str) -> list[str]:
    seen: list[str] = []
    for page in range(wire.FIRST_PAGE, wire.FIRST_PAGE + WALK_MAX_PAGES):
        items = results(await probe.search(kind, page, WALK_PAGE_SIZE), kind)
        seen += [bom_identity(i) if kind == "boms" else str(i.get("sku")) for i in items]
        if len(items) < WALK_PAGE_SIZE:
            break
    return seen


async def paging(probe: Probe) -> Verdict:
    """Pages are 1-based: page 1 and 2 (size 1) are the first two of a larger page; what
    page=0 answers is reported."""
    if not probe.facts.stable_order:
        return unknown("needs a stable order (see `stable order`)")
    whole = skus(results(await probe.search("products", wire.FIRST_PAGE, 100), "products"))
    one, two = [skus(results(await probe.search("products", p, 1), "products")) for p in (1, 2)]
    zero_answer = await probe.search("products", 0, 1)
    zero = skus(results(zero_answer, "products"))
    said = _page_zero(zero_answer, zero, one)
    if one == whole[:1] and two == whole[1:2] and one != two:
        probe.facts.first_page = wire.FIRST_PAGE
        return passed(f"1-based: page 2 follows page 1; {said}")
    if zero and zero != one:
        probe.facts.first_page = 0
        return failed(
            f"0-based: page=0 answered {shown(zero)}, page=1 {shown(one)}: reconcile asks "
            "for page 1 first and would never read the first page (all it holds is planned "
            "as absent and created again)",
        )
    return failed(f"page 1 {shown(one)}, page 2 {shown(two)} of {shown(whole)}; {said}")


def _page_zero(answer: RawAnswer, zero: list[str], one: list[str]) -> str:
    if answer.status != 200:
        return f"page=0 is refused ({answered(answer)})"
    return "page=0 answers page 1" if zero == one else f"page=0 answers {shown(zero)}"


async def page_size(probe: Probe) -> Verdict:
    """Ask for 1,000 per page; compare what is served with what ``size`` echoes."""
    if probe.facts.first_page is None:
        return unknown("needs to know the first page (see `paging`)")
    answer = await probe.search("products", probe.facts.first_page, PAGE_SIZE_ASKED)
    served, obj = len(results(answer, "products")), answer.obj or {}
    echoed, total = obj.get(wire.PAGE_SIZE_FIELD), answers.count_field(obj, "totalElements")
    if not isinstance(echoed, int) or isinstance(echoed, bool):
        return failed(f"asked {PAGE_SIZE_ASKED}, served {served}, no `size` echo")
    expected = min(echoed, total) if total is not None else served
    if served > echoed or served != expected:
        return failed(
            f"asked {PAGE_SIZE_ASKED}: served {served}, `size` echoes {echoed}, "
            f"{total} in all: the walk would count pages wrongly; lower `limits.page_size`",
        )
    return passed(f"asked {PAGE_SIZE_ASKED}: served {served}, `size` echoes {echoed}")


async def date_window(probe: Probe) -> Verdict:
    """A wide creation-date window shows at least a plain search; a window ending six
    months ago shows no product created since."""
    if not probe.facts.results_readable:
        return unknown("needs a readable search envelope")
    now = datetime.now(UTC)
    plain = await probe.items("products", fields=[])
    wide = await probe.items("products")
    old_end = wire.format_product_date(now - SIX_MONTHS)
    old_start = wire.format_product_date(wire.PRODUCT_WINDOW_START)
    old_fields = [{"name": wire.PRODUCT_WINDOW_FIELD, "values": [old_start, old_end]}]
    old = await probe.items("products", fields=old_fields)
    missing = set(skus(plain)) - set(skus(wide))
    if missing:
        return failed(f"the wide window hides {shown(sorted(missing))} that a plain search shows")
    recent = {str(p.get("sku")) for p in wide if _created_after(p, now - SIX_MONTHS)}
    wrong = recent & set(skus(old))
    if wrong:
        return failed(
            f"a window ending six months ago answered {shown(sorted(wrong))}, created since: "
            "PB ignores the date filter, so products over six months old stay hidden from "
            "every search and would be planned as new",
        )
    if not recent:
        return unknown("needs a product created in the last six months")
    return passed(
        f"wide window ⊇ plain search ({len(plain)}); older window excludes {len(recent)} recent"
    )


def _created_after(product: Json, moment: datetime) -> bool:
    text = product.get("pbCreateDate")
    try:
        return isinstance(text, str) and wire.parse_pb_date(text) > moment
    except ValueError:
        return False


async def sku_field(probe: Probe) -> Verdict:
    """A search on the ``sku`` field answers that product."""
    sample = probe.facts.products
    if not sample:
        return unknown("needs a product")
    sku = str(sample[0].get("sku"))
    fields = [*wire.product_window_search_fields(), {"name": "sku", "values": [sku]}]
    found = skus(await probe.items("products", fields=fields))
    if sku not in found:
        return failed(f"a search for sku {sku!r} answered {shown(found)}: lookups by SKU miss")
    if set(found) != {sku}:
        return passed(f"sku {sku!r} found, with {len(found) - 1} others (reconcile filters again)")
    return passed(f"a search for sku {sku!r} answers exactly it")


async def error_object(probe: Probe) -> Verdict:
    """A deliberately invalid search (no clientId) answers 400 with the unified error object."""
    body: Json = {wire.SEARCH_FIELDS_FIELD: []}
    answer = await probe.send(
        "POST", SEARCH_PATHS["products"], params={"page": 1, "size": 1}, body=body
    )
    if 400 <= answer.status < 500 and answers.is_unified_error(answer.body):
        first = answer.body["errors"][0]
        return passed(f"HTTP {answer.status}, errorCode {shown(first.get('errorCode'))}")
    return failed(
        f"an invalid search (no clientId) answered {answered(answer)}, not 4xx with "
        '`{"errors": [{"errorCode", …}]}`: reconcile\'s messages lose PB\'s reason',
    )
