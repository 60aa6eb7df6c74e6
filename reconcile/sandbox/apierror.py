"""PB's unified error object and the one table of codes the emulator emits.

Contract §8.2: every error body is ``{"errors": [{errorCode, errorDescription,
additionalInfo, parameters}]}``. The documented generic 100-prefix codes are used where
they fit; everything else gets a dotted, obviously non-PB code (never an 80-prefix
number, which would pretend to be one of PB's undocumented Fulfillment codes).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from starlette.responses import Response

# code → (HTTP status, description used when the raiser gives none)
ERROR_CODES: dict[str, tuple[int, str]] = {
    "1000032": (401, "Authentication error: missing, invalid or expired access token."),
    "1000033": (403, "Unauthorized API access for the given credentials."),
    "1000050": (400, "Invalid JSON structure."),
    "1000005": (500, "Internal server error."),
    "validation.failed": (400, "Request validation failed."),
    "resource.exists": (400, "The resource already exists."),
    "resource.not_found": (404, "The resource does not exist."),
    "method.not_allowed": (405, "HTTP method not allowed on this resource."),
    "request.throttled": (429, "Too many requests."),
    "service.bad_gateway": (502, "Bad gateway."),
    "service.unavailable": (503, "Service temporarily unavailable."),
    "service.timeout": (504, "Gateway timeout."),
    "transaction_id.invalid": (400, "Invalid X-PB-TransactionId header."),
    "transaction_id.reused": (400, "X-PB-TransactionId was already used."),
    "credentials.invalid": (401, "Invalid API key or secret."),
    "grant_type.invalid": (400, "Unsupported grant_type; use client_credentials."),
    "route.not_emulated": (501, "This documented PB route is not emulated by the sandbox."),
}


@dataclass(frozen=True)
class ErrorItem:
    """One element of the unified ``errors`` array."""

    code: str
    description: str
    parameters: tuple[str, ...] = ()
    additional_info: str | None = None

    def as_json(self) -> dict[str, object]:
        return {
            "errorCode": self.code,
            "errorDescription": self.description,
            "additionalInfo": self.additional_info,
            "parameters": list(self.parameters),
        }


def item(
    code: str, description: str | None = None, *params: str, info: str | None = None
) -> ErrorItem:
    """Build an ErrorItem, defaulting the description from the code table."""
    return ErrorItem(code, description or ERROR_CODES[code][1], tuple(params), info)


@dataclass
class ApiError(Exception):
    """An answer in the unified error shape; raised by handlers, rendered by the app."""

    status: int
    items: list[ErrorItem] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(
        cls, code: str, description: str | None = None, *params: str, info: str | None = None
    ) -> ApiError:
        return cls(ERROR_CODES[code][0], [item(code, description, *params, info=info)])

    @classmethod
    def invalid(cls, items: Iterable[ErrorItem]) -> ApiError:
        return cls(400, list(items))

    def response(self) -> Response:
        return error_response(self.status, self.items, self.headers)


def validation(path: str, message: str, info: str | None = None) -> ErrorItem:
    """A ``validation.failed`` item naming the offending field path."""
    return item("validation.failed", f"{path or 'body'}: {message}", path or "body", info=info)


def error_response(
    status: int, items: list[ErrorItem], headers: dict[str, str] | None = None
) -> Response:
    body = json.dumps({"errors": [i.as_json() for i in items]}, ensure_ascii=False)
    return Response(body, status, headers=headers, media_type="application/json")
