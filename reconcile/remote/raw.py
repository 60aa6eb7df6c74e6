"""Requests answered as PB sent them, not vetted (for ``reconcile probe``), and the
transcript of a client's exchanges (``probe --record``).

The endpoint methods of ``PBClient`` refuse an answer they do not understand; the probe
must see that answer to say what it was. ``send_raw`` goes through the same session
(pacing, transaction ids, the bearer token, deadlines, the size ceiling, retries on
network faults and 5xx) and returns any other status with its body. ``ExchangeLog``
turns every request and answer of a client, token requests included, into a plain
``Exchange`` with the key, secret and tokens masked.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx2 as httpx

from reconcile.remote.redact import MASK
from reconcile.remote.transport import Authorize, Call, Session, Stamp

#: Headers whose whole value is a credential.
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
#: JSON fields whose value is a credential (the token answer's, contract §4).
SECRET_FIELDS = frozenset({"access_token", "refresh_token", "id_token"})


@dataclass(frozen=True)
class RawAnswer:
    """One answer as PB sent it: status, decoded JSON body (None when not JSON), text."""

    status: int
    body: Any
    text: str
    transaction_id: str

    @property
    def obj(self) -> dict[str, Any] | None:
        """The body when it is a JSON object."""
        return self.body if isinstance(self.body, dict) else None


async def send_raw(session: Session, authorize: Authorize, call: Call) -> RawAnswer:
    """``call`` sent with the client's token; any answer but a retryable one is returned."""
    ids = session.ids.operation(call.operation)

    async def attempt() -> RawAnswer:
        stamp = Stamp(ids)
        request = session.http.build_request(
            call.method,
            call.path,
            headers={"Content-Type": "application/json"},
            params=call.params or None,
            json=call.body,
        )

        def context() -> Any:
            return session.context(call.operation, call.resource, stamp.transaction_id)

        response = await session.exchange(request, context, authorize(call, stamp))
        return RawAnswer(
            response.status_code, _json(response.content), response.text, stamp.transaction_id
        )

    return await session.retrying(call, attempt)


def _json(content: bytes) -> Any:
    try:
        return json.loads(content) if content.strip() else None
    except (ValueError, RecursionError):
        return None


@dataclass(frozen=True)
class Exchange:
    """One request and its answer, credentials masked."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: Any
    status: int
    response_headers: dict[str, str]
    response_body: Any
    elapsed_ms: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "request": {
                "method": self.method,
                "url": self.url,
                "headers": self.request_headers,
                "body": self.request_body,
            },
            "response": {
                "status": self.status,
                "headers": self.response_headers,
                "body": self.response_body,
            },
        }


class ExchangeLog:
    """An httpx response hook handing each exchange, masked, to ``on_exchange``."""

    def __init__(self, redact: Callable[[str], str], on_exchange: Callable[[Exchange], None]):
        self._redact = redact
        self._on_exchange = on_exchange

    async def __call__(self, response: httpx.Response) -> None:
        await response.aread()
        request = response.request
        self._on_exchange(
            Exchange(
                method=request.method,
                url=self._redact(str(request.url)),
                request_headers=self._headers(request.headers),
                request_body=self._body(request.content),
                status=response.status_code,
                response_headers=self._headers(response.headers),
                response_body=self._body(response.content),
            )
        )

    def _headers(self, headers: httpx.Headers) -> dict[str, str]:
        return {
            name: MASK if name.lower() in SECRET_HEADERS else self._redact(value)
            for name, value in headers.items()
        }

    def _body(self, content: bytes) -> Any:
        decoded = _json(content)
        if decoded is None:
            return self._redact(content.decode("utf-8", errors="replace")) if content else None
        return json.loads(self._redact(json.dumps(_masked(decoded), ensure_ascii=False)))


def _masked(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: MASK if k in SECRET_FIELDS else _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value
