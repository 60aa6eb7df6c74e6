"""Pages of search results (contract §9): the ``page``/``size`` query and the envelope.

Pages are 1-based; ``size`` above the maximum is served at the maximum. The probe's
alternatives (config): 0-based pages, another results field name, no ``totalElements``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconcile.sandbox import config as c
from reconcile.sandbox.apierror import ApiError, ErrorItem, validation
from reconcile.sandbox.config import SandboxConfig
from reconcile.sandbox.store import to_json


@dataclass(frozen=True)
class Paging:
    page: int
    size: int
    #: The number of the first page: 1 (ASSUME), or 0 (``one_based_pages: false``).
    base: int = 1
    results_field: str = "content"
    total_elements: bool = True

    @property
    def offset(self) -> int:
        return (self.page - self.base) * self.size


def parse_paging(query: Mapping[str, str], config: SandboxConfig) -> Paging:
    """``page`` (default the first) and ``size`` (default 20, capped at ``page_max``)."""
    base = 1 if config.one_based_pages else 0
    problems: list[ErrorItem] = []
    page = query_integer(query.get("page"), "page", base, base, problems)
    size = query_integer(query.get("size"), "size", c.DEFAULT_PAGE_SIZE, 1, problems)
    if problems:
        raise ApiError.invalid(problems)
    size = min(size, config.page_max)
    return Paging(page, size, base, config.results_field, config.total_elements)


def query_integer(
    raw: str | None, name: str, default: int, floor: int, problems: list[ErrorItem]
) -> int:
    """A whole-number query parameter (``page``, ``size``): ``default`` when absent; a
    problem for ``problems`` when it is not an integer of at least ``floor``."""
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = floor - 1
    if value < floor:
        problems.append(validation(name, f"must be an integer ≥ {floor} (got {raw!r})"))
    return max(value, floor)


def envelope(content: list[Any], total: int, paging: Paging) -> dict[str, Any]:
    """The §9 page envelope, results under ``content`` (or the configured name)."""
    pages = math.ceil(total / paging.size)
    page: dict[str, Any] = {
        paging.results_field: content,
        "totalPages": pages,
        "totalElements": total,
        "first": paging.page == paging.base,
        "last": paging.page - paging.base + 1 >= pages,
        "size": paging.size,
        "page": paging.page,
    }
    if not paging.total_elements:
        del page["totalElements"]
    return page


def envelope_json(items: list[str], total: int, paging: Paging) -> str:
    """The envelope as JSON text around items that are already JSON text."""
    name = paging.results_field
    rest = to_json({k: v for k, v in envelope([], total, paging).items() if k != name})
    return f"{{{to_json(name)}:[{','.join(items)}],{rest[1:]}"
