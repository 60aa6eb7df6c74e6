"""Answers the emulator never gives: a tiny fake server (in-process) with broken bodies."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from reconcile.errors import AuthError, RemoteError, Unavailable
from reconcile.remote import wire
from reconcile.remote.client import PBClient
from reconcile.remote.redact import basic_credentials
from tests.support.client import asgi_client, run

ANSWERS: dict[str, Response] = {
    "HTML": PlainTextResponse("<html><body>Welcome to nginx</body></html>", 200),
    "LIST": JSONResponse([1, 2, 3]),
    "EMPTY": Response(b"", 200),
    "GATEWAY": PlainTextResponse("<html>502 Bad Gateway</html>", 502),
    "TEAPOT": PlainTextResponse("short and stout", 418),
    "GZIP": Response(b"this is not gzip", 200, headers={"Content-Encoding": "gzip"}),
    "DEEP": Response(b"[" * 200_000 + b"]" * 200_000, 200, media_type="application/json"),
}


SEEN: list[tuple[dict[str, str], bytes]] = []


def fake_pb(token_body: dict[str, Any]) -> Starlette:
    async def token(request: Request) -> Response:
        SEEN.append((dict(request.headers), await request.body()))
        return JSONResponse(token_body)

    async def product(request: Request) -> Response:
        SEEN.append((dict(request.headers), await request.body()))
        return ANSWERS[request.path_params["sku"]]

    return Starlette(
        routes=[
            Route(wire.TOKEN_PATH, token, methods=["POST"]),
            Route(f"{wire.PRODUCTS_PATH}/{{sku}}", product, methods=["GET", "PUT"]),
        ]
    )


def call(sku: str, token_body: dict[str, Any] | None = None, method: str = "get") -> Any:
    body = token_body if token_body is not None else {"access_token": "t0k3n-abc", "expiresIn": 60}

    async def work(client: PBClient) -> Any:
        if method == "put":
            return await client.update_product(sku, {"sku": sku})
        return await client.get_product("C1", sku)

    return run(
        asgi_client(
            fake_pb(body), "fake-key", "fake-secret", retry_attempts=2, read_retry_attempts=2
        ),
        work,
    )


class TestWhatIsSent:
    def test_headers_of_token_and_api_requests(self) -> None:
        """The token request is Basic + form; API requests carry bearer, JSON and PB headers."""
        SEEN.clear()
        call("EMPTY", method="put")
        (token_headers, token_body), (api_headers, api_body) = SEEN
        assert (
            token_headers["authorization"]
            == f"Basic {basic_credentials('fake-key', 'fake-secret')}"
        )
        assert token_headers["content-type"] == "application/x-www-form-urlencoded"
        assert token_body == b"grant_type=client_credentials"
        assert api_headers["authorization"] == "Bearer t0k3n-abc"
        assert api_headers["content-type"] == "application/json"
        assert api_headers["x-pb-unifiederrorstructure"] == "true"
        assert re.fullmatch(r"[a-z0-9]{10}-PU[0-9A-Z]{4}-1", api_headers["x-pb-transactionid"])
        assert re.fullmatch(r"[a-z0-9]{10}-TK[0-9A-Z]{4}-1", token_headers["x-pb-transactionid"])
        assert json.loads(api_body) == {"sku": "EMPTY"}


class TestOddAnswers:
    def test_html_instead_of_json(self) -> None:
        """A 200 with an HTML body is a RemoteError quoting the start of the body."""
        with pytest.raises(RemoteError, match=r"not JSON .*Welcome to nginx") as caught:
            call("HTML")
        assert caught.value.status == 200 and caught.value.transaction_id

    def test_json_that_is_not_an_object(self) -> None:
        """A JSON array where an object is expected is refused clearly."""
        with pytest.raises(RemoteError, match="JSON that is not an object"):
            call("LIST")

    def test_absurdly_nested_json(self) -> None:
        """JSON nested deeper than the parser can go is a RemoteError, not a RecursionError."""
        with pytest.raises(RemoteError, match="not JSON"):
            call("DEEP")

    def test_empty_success_body_reads_as_empty_object(self) -> None:
        """A 2xx with no body (some PUTs answer so) is an empty result, not an error."""
        assert call("EMPTY", method="put") == {}

    def test_gateway_page_is_retried_then_reported(self) -> None:
        """A 502 HTML page from a gateway is retried, then reported with its text."""
        with pytest.raises(Unavailable, match=r"bad gateway.*not PB's error object") as caught:
            call("GATEWAY")
        assert "gave up after 2 attempts" in str(caught.value)

    def test_unexpected_status(self) -> None:
        """A status with no meaning in PB's table is a plain RemoteError with the status."""
        with pytest.raises(RemoteError, match="unexpected status") as caught:
            call("TEAPOT")
        assert caught.value.status == 418

    def test_body_that_fails_its_encoding(self) -> None:
        """A body that is not the gzip its header claims is a RemoteError, not a crash."""
        with pytest.raises(RemoteError, match="could not be read"):
            call("GZIP")

    def test_token_answer_without_token(self) -> None:
        """A token answer lacking access_token is an AuthError, not a crash."""
        with pytest.raises(AuthError, match="access_token"):
            call("EMPTY", token_body={"expiresIn": "60"})

    @pytest.mark.parametrize(
        "token", [12345, ["t0k3n"], {"value": "t0k3n"}, True, "two words", "line\nbreak"]
    )
    def test_token_that_is_not_a_header_string(self, token: Any) -> None:
        """A token of the wrong JSON type or with characters no header carries is an
        AuthError (exit 4) that does not echo it, not an unexpected crash."""
        with pytest.raises(AuthError, match="access_token") as caught:
            call("EMPTY", token_body={"access_token": token, "expiresIn": "60"})
        assert caught.value.exit_code == 4 and "t0k3n" not in str(caught.value)
        assert "words" not in str(caught.value) and "break" not in str(caught.value)

    def test_numeric_expires_in_is_accepted(self) -> None:
        """expiresIn sent as a number works like the documented string."""
        assert (
            call("EMPTY", token_body={"access_token": "abc-123", "expiresIn": 5}, method="put")
            == {}
        )
