"""HTTP answers and transport faults → the ``RemoteError`` tree of ``reconcile.errors``.

The client keys on HTTP status only, never on PB's error codes (contract §8.2: the
Fulfillment codes are undocumented); the codes are carried along for the user.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx2 as httpx

from reconcile.errors import (
    AuthError,
    NotFoundError,
    RateLimited,
    RemoteError,
    RemoteErrorDetail,
    Unavailable,
    ValidationFailed,
)
from reconcile.remote import answers

#: Statuses worth another attempt (contract §8.1, §8.3).
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
_SNIPPET = 120

Redact = Callable[[str], str]
E = TypeVar("E", bound=RemoteError)


@dataclass(frozen=True)
class Context:
    """What a failure is about: the operation, its resource, the request's transaction id."""

    operation: str
    resource: str
    transaction_id: str
    redact: Redact

    def error(
        self,
        cls: type[RemoteError],
        message: str,
        status: int | None = None,
        details: list[RemoteErrorDetail] | None = None,
    ) -> RemoteError:
        clean = [
            RemoteErrorDetail(
                self.redact(d.code),
                self.redact(d.description),
                [self.redact(p) for p in d.parameters],
            )
            for d in details or []
        ]
        return cls(
            self.redact(message),
            operation=self.operation,
            resource=self.resource,
            status=status,
            details=clean,
            transaction_id=self.transaction_id,
        )


_STATUS_ERRORS: dict[int, tuple[type[RemoteError], str]] = {
    400: (ValidationFailed, "PB rejected the request as invalid"),
    401: (AuthError, "PB rejected the access token"),
    403: (
        AuthError,
        "PB refused access: the account is not enabled for this operation "
        "(ask PB to enable the Fulfillment APIs for these credentials)",
    ),
    404: (NotFoundError, "PB has no such resource"),
    405: (RemoteError, "PB does not allow this method on this path"),
    429: (RateLimited, "PB is throttling requests (HTTP 429)"),
    500: (Unavailable, "PB had an internal error"),
    502: (Unavailable, "a gateway in front of PB got no valid answer (bad gateway)"),
    503: (Unavailable, "PB is unavailable (maintenance or overload)"),
    504: (Unavailable, "a gateway in front of PB timed out"),
}


def error_from_response(response: httpx.Response, context: Context) -> RemoteError:
    """The error for a non-2xx answer, with PB's unified error details if it sent any."""
    status = response.status_code
    cls, message = _STATUS_ERRORS.get(
        status, (_fallback_class(status), "PB answered with an unexpected status")
    )
    if status == 404 and not _unified(response):
        # A proxy's HTML page or an empty 404 is not PB saying "no such resource":
        # read as absence, it would plan a create of something PB may hold.
        cls = RemoteError
        message = (
            "PB answered 404 without its error object (a proxy or gateway in between?), "
            "so whether the resource exists is unknown; nothing is written on that answer"
        )
    details = details_of(response)
    if not details and response.content:
        message += f"; the body is not PB's error object: {_snippet(response)}"
    return context.error(cls, message, status, details)


def _unified(response: httpx.Response) -> bool:
    try:
        return answers.is_unified_error(response.json())
    except (ValueError, RecursionError):
        return False


def _fallback_class(status: int) -> type[RemoteError]:
    return Unavailable if status >= 500 else RemoteError


def details_of(response: httpx.Response) -> list[RemoteErrorDetail]:
    """PB's unified error object (contract §8.2), read leniently; [] if there is none."""
    try:
        body = response.json()
    except (ValueError, RecursionError):  # RecursionError: absurdly nested JSON
        return []
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(body, dict) and errors is None and ("errorCode" in body or "message" in body):
        errors = [body]  # a single legacy error object
    if not isinstance(errors, list):
        return []
    return [_detail(e) for e in errors if isinstance(e, dict)]


def _detail(error: dict[str, Any]) -> RemoteErrorDetail:
    description = error.get("errorDescription") or error.get("message") or ""
    parameters = error.get("parameters") or []
    if not isinstance(parameters, list):
        parameters = [parameters]
    return RemoteErrorDetail(
        code=str(error.get("errorCode", "") or ""),
        description=str(description),
        parameters=[str(p) for p in parameters],
    )


def json_object(response: httpx.Response, context: Context) -> dict[str, Any]:
    """The JSON object of a 2xx answer; an empty body reads as ``{}``."""
    if not response.content.strip():
        return {}
    try:
        body = response.json()
    except (ValueError, RecursionError) as e:  # RecursionError: absurdly nested JSON
        kind = response.headers.get("content-type", "no content type")
        message = f"PB answered with a body that is not JSON ({kind}): {_snippet(response)}"
        raise context.error(RemoteError, message, response.status_code) from e
    if not isinstance(body, dict):
        message = f"PB answered with JSON that is not an object: {_snippet(response)}"
        raise context.error(RemoteError, message, response.status_code)
    return body


def _snippet(response: httpx.Response) -> str:
    text = response.content[: _SNIPPET * 4].decode("utf-8", errors="replace")
    text = " ".join(text.split())
    return json.dumps(text[:_SNIPPET] + ("…" if len(text) > _SNIPPET else ""))


def error_from_transport(error: httpx.TransportError, context: Context) -> RemoteError:
    """A network fault (no HTTP answer at all) as ``Unavailable``."""
    return context.error(Unavailable, describe_transport_error(error))


class DeadlineExceeded(httpx.ReadTimeout):
    """One exchange outlived ``limits.request_deadline_seconds`` (a body that drips)."""


class AnswerTooLarge(httpx.DecodingError):
    """An answer larger than ``limits.max_response_bytes``: refused, not retried."""


def describe_transport_error(error: httpx.TransportError) -> str:
    reason = str(error) or type(error).__name__
    if isinstance(error, DeadlineExceeded):
        return f"PB's answer is too slow: {reason}; the request may have been applied"
    if isinstance(error, httpx.ConnectTimeout):
        return f"could not connect to PB in time ({reason})"
    if isinstance(error, httpx.ConnectError):
        return f"could not connect to PB ({reason})"
    if isinstance(error, httpx.PoolTimeout):
        return "no free connection to PB in time (raise `limits.pool_timeout_seconds`)"
    if isinstance(error, httpx.TimeoutException):
        return (
            f"PB did not answer in time ({type(error).__name__}); the request may have been applied"
        )
    if isinstance(error, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
        return f"the connection to PB broke ({reason}); the request may have been applied"
    return f"network error talking to PB ({type(error).__name__}: {reason})"


def maybe_applied(error: httpx.TransportError | None, status: int | None) -> bool:
    """Whether PB may have carried out a write although we saw no success.

    Only faults before the request left (no connection) are known not to have applied it.
    A 429 is treated as refused; any 5xx may come from a gateway after PB committed.
    """
    if error is not None:
        return not isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
    return status is not None and status >= 500


def retry_after_seconds(response: httpx.Response, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date); None if absent or bad."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def amended(error: E, note: str) -> E:
    """The same error with ``note`` added to its message."""
    return type(error)(
        f"{error.message}; {note}",
        operation=error.operation,
        resource=error.resource,
        status=error.status,
        details=error.details,
        transaction_id=error.transaction_id,
    )
