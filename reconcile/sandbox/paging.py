"""Pages of search results (contract §9): the ``page``/``size`` query and the envelope.

Pages are 1-based; ``size`` above the maximum is served at the maximum.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconcile.sandbox import config as c
from reconcile.sandbox.apierror import ApiError, ErrorItem, validation
from reconcile.sandbox.store import to_json


@dataclass(frozen=True)
class Paging:
    page: int
    size: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size


def parse_paging(query: Mapping[str, str], page_max: int) -> Paging:
    """1-based ``page`` (default 1) and ``size`` (default 20, capped at ``page_max``)."""
    problems: list[ErrorItem] = []
    page = _positive(query.get("page"), "page", 1, problems)
    size = _positive(query.get("size"), "size", c.DEFAULT_PAGE_SIZE, problems)
    if problems:
        raise ApiError.invalid(problems)
    return Paging(page, min(size, page_max))


def _positive(raw: str | None, name: str, default: int, problems: list[ErrorItem]) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        problems.append(validation(name, f"must be an integer ≥ 1 (got {raw!r})"))
    return max(value, 1)


def envelope(content: list[Any], total: int, paging: Paging) -> dict[str, Any]:
    """The §9 page envelope, results under ``content``."""
    pages = math.ceil(total / paging.size)
    return {
        "content": content,
        "totalPages": pages,
        "totalElements": total,
        "first": paging.page == 1,
        "last": paging.page >= pages,
        "size": paging.size,
        "page": paging.page,
    }


def envelope_json(items: list[str], total: int, paging: Paging) -> str:
    """The envelope as JSON text around items that are already JSON text."""
    rest = to_json({k: v for k, v in envelope([], total, paging).items() if k != "content"})
    return f'{{"content":[{",".join(items)}],{rest[1:]}'
