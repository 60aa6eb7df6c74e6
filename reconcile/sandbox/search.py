"""Search requests (contract §6.5, §7.5, §10) turned into SQL (pages: ``paging``).

Body: ``{clientId, sort: ["<property>-<asc|desc>"], searchFields: [{name, values}]}``.
Values of one entry are OR-ed, entries are AND-ed; a date entry's ``values`` is
``[from]`` or ``[from, to]`` (inclusive, any ISO 8601 form; a bare ``to`` date covers its
whole day).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from reconcile.sandbox import config as c
from reconcile.sandbox.apierror import ApiError, ErrorItem, validation
from reconcile.sandbox.dates import months_before, parse_instant, parse_range_end
from reconcile.sandbox.store import Query
from reconcile.sandbox.validation import check_object, json_type


@dataclass(frozen=True)
class Filter:
    """One searchFields entry, checked: its index, name and values."""

    index: int
    name: str
    values: list[Any]

    def where(self, suffix: str = "") -> str:
        return f"searchFields[{self.index}]{suffix}"


def parse_body(body: Any) -> tuple[str, list[str], list[Filter]]:
    """clientId, sort entries and searchFields of a search body; 400 on any problem."""
    problems = check_object(body)
    if problems:
        raise ApiError.invalid(problems)
    client_id = body.get("clientId")
    if not isinstance(client_id, str) or not client_id.strip():
        problems.append(validation("clientId", "is required (a non-empty string)"))
    sort = _string_list(body.get("sort"), "sort", problems)
    filters = _filters(body.get("searchFields"), problems)
    if problems:
        raise ApiError.invalid(problems)
    return str(client_id), sort, filters


def _string_list(raw: Any, name: str, problems: list[ErrorItem]) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.append(validation(name, f"must be an array of strings, not {json_type(raw)}"))
        return []
    bad = [i for i, v in enumerate(raw) if not isinstance(v, str)]
    problems.extend(validation(f"{name}[{i}]", "must be a string") for i in bad)
    return [v for v in raw if isinstance(v, str)]


def _filters(raw: Any, problems: list[ErrorItem]) -> list[Filter]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.append(validation("searchFields", f"must be an array, not {json_type(raw)}"))
        return []
    filters = []
    for i, entry in enumerate(raw):
        where = f"searchFields[{i}]"
        if not isinstance(entry, dict):
            problems.append(validation(where, f"must be an object, not {json_type(entry)}"))
            continue
        name, values = entry.get("name"), entry.get("values")
        if not isinstance(name, str) or not name:
            problems.append(validation(f"{where}.name", "is required (a string)"))
            continue
        if values is not None and not isinstance(values, list):
            problems.append(validation(f"{where}.values", "must be an array"))
            continue
        filters.append(Filter(i, name, list(values or [])))
    return filters


class QueryBuilder:
    """Accumulates WHERE fragments; raises one 400 listing every bad filter."""

    def __init__(self) -> None:
        self.where: list[str] = []
        self.params: list[Any] = []
        self.problems: list[ErrorItem] = []

    def fail(self, path: str, message: str) -> None:
        self.problems.append(validation(path, message))

    def one_of(self, column: str, f: Filter) -> None:
        values = self.strings(f)
        if values:
            self.where.append(f"{column} IN ({','.join('?' * len(values))})")
            self.params.extend(values)

    def strings(self, f: Filter) -> list[str]:
        if not f.values:
            self.fail(f.where(".values"), f"at least one value is required for {f.name}")
        bad = [i for i, v in enumerate(f.values) if not isinstance(v, str | int | float)]
        for i in bad:
            self.fail(f.where(f".values[{i}]"), "must be a string")
        return [str(v) for v in f.values if isinstance(v, str | int | float)]

    def flag(self, f: Filter) -> list[bool]:
        flags = []
        for i, v in enumerate(f.values):
            text = str(v).lower() if isinstance(v, str | bool) else ""
            if text not in ("true", "false"):
                self.fail(f.where(f".values[{i}]"), f"must be true or false (got {v!r})")
            flags.append(text == "true")
        return flags

    def date_range(self, column: str, f: Filter) -> None:
        if len(f.values) not in (1, 2):
            self.fail(f.where(".values"), "must be [from] or [from, to] (ISO 8601 dates)")
            return
        bounds = [parse_instant(f.values[0]) if isinstance(f.values[0], str) else None]
        if len(f.values) == 2:
            end = f.values[1]
            bounds.append(parse_range_end(end) if isinstance(end, str) else None)
        for i, (value, bound) in enumerate(zip(f.values, bounds, strict=True)):
            if bound is None:
                self.fail(f.where(f".values[{i}]"), f"must be an ISO 8601 date (got {value!r})")
        if None in bounds:
            return
        self.where.append(f"{column} >= ?")
        self.params.append(bounds[0])
        if len(bounds) == 2:
            self.where.append(f"{column} <= ?")
            self.params.append(bounds[1])

    def order(self, sort: list[str], columns: Mapping[str, str], default: str) -> str:
        terms = []
        for i, entry in enumerate(sort):
            prop, _, direction = entry.rpartition("-")
            column = columns.get(prop)
            if column is None or direction.lower() not in ("asc", "desc"):
                allowed = ", ".join(f"{p}-asc|desc" for p in columns)
                self.fail(f"sort[{i}]", f"must be one of {allowed} (got {entry!r})")
                continue
            terms.append(f"{column} IS NULL, {column} {direction.upper()}")
        return ", ".join([*terms, default])

    def build(self, order: str) -> Query:
        if self.problems:
            raise ApiError.invalid(self.problems)
        return Query(self.where, self.params, order)

    def unknown(self, f: Filter, allowed: list[str]) -> None:
        self.fail(
            f.where(".name"), f"unknown search field {f.name!r}; use one of {', '.join(allowed)}"
        )


_PRODUCT_DATES = {
    "createDate": "create_ts",
    "updateDate": "update_ts",
    "pbCreateDate": "pb_create",
    "pbUpdateDate": "pb_update",
}
_BOM_DATES = {**_PRODUCT_DATES, "pbupdateDate": "pb_update"}
_PRODUCT_COLUMNS = {"sku": "sku", "productType": "product_type", "fulfillmentRegion": "region"}


def product_query(
    sort: list[str],
    filters: list[Filter],
    now: float,
    six_month_window: bool,
    window_always: bool = False,
    *,
    date_filters: bool = True,
) -> Query:
    """SQL for Find Products, with the six-month window unless a date filter is sent
    (``date_filters=False``: date filters are accepted and ignored, the window stays)."""
    qb = QueryBuilder()
    allowed = sorted(["active", *_PRODUCT_COLUMNS, *_PRODUCT_DATES])
    for f in filters:
        if f.name in _PRODUCT_DATES and not date_filters:
            continue
        if f.name in _PRODUCT_DATES:
            qb.date_range(_PRODUCT_DATES[f.name], f)
        elif f.name in _PRODUCT_COLUMNS:
            qb.one_of(_PRODUCT_COLUMNS[f.name], f)
        elif f.name == "active":
            flags = set(qb.flag(f))
            if not flags:
                qb.fail(f.where(".values"), "at least one value (true or false) is required")
            qb.where.append(f"active IN ({','.join(str(int(x)) for x in flags) or '1, 0'})")
        else:
            qb.unknown(f, allowed)
    dated = date_filters and any(f.name in _PRODUCT_DATES for f in filters)
    if six_month_window and (window_always or not dated):
        qb.where.append("pb_create >= ?")
        qb.params.append(months_before(now, c.SEARCH_WINDOW_MONTHS))
    return qb.build(qb.order(sort, _PRODUCT_DATES, "sku ASC"))


def bom_query(
    sort: list[str],
    filters: list[Filter],
    client_id: str,
    id_field: str,
    include_mode: str = "both",
) -> Query:
    """SQL for Find a BOM; inactive BOMs only with ``includeInactive: ["true"]``, which
    adds them (``include_mode`` "both"), gives only them ("only") or is ignored."""
    qb = QueryBuilder()
    handlers: dict[str, Callable[[Filter], None]] = {
        "parentSku": lambda f: qb.one_of("sku", f),
        "brand": lambda f: qb.one_of("brand", f),
        id_field: lambda f: qb.one_of("id", f),
        "childSku": lambda f: _child_sku(qb, f, client_id),
    }
    include_inactive = False
    for f in filters:
        if f.name in _BOM_DATES:
            qb.date_range(_BOM_DATES[f.name], f)
        elif f.name in handlers:
            handlers[f.name](f)
        elif f.name == "includeInactive":
            include_inactive = not f.values or any(qb.flag(f))
        else:
            qb.unknown(f, sorted([*handlers, "includeInactive", *_BOM_DATES]))
    if include_inactive and include_mode == "only":
        qb.where.append("active = 0")
    elif not include_inactive or include_mode == "ignored":
        qb.where.append("active = 1")
    return qb.build(qb.order(sort, _PRODUCT_DATES, "seq ASC"))


def in_order(query: Query, stable: bool) -> Query:
    """``query`` as asked, or (``stable_order: false``) in a new random order each time."""
    return query if stable else Query(query.where, query.params, "random()", stable=False)


def _child_sku(qb: QueryBuilder, f: Filter, client_id: str) -> None:
    values = qb.strings(f)
    if values:
        marks = ",".join("?" * len(values))
        qb.where.append(
            f"seq IN (SELECT bom_seq FROM bom_components WHERE client_id = ? AND sku IN ({marks}))"
        )
        qb.params.extend([client_id, *values])


def inventory_query(sort: list[str], filters: list[Filter]) -> Query:
    """SQL for the inventory snapshot: ``sku`` filter, ``sku-asc`` (default) or ``sku-desc``."""
    qb = QueryBuilder()
    for f in filters:
        if f.name == "sku":
            qb.one_of("sku", f)
        else:
            qb.unknown(f, ["sku"])
    return qb.build(qb.order(sort, {"sku": "sku"}, "sku ASC, seq ASC"))
