"""Contract §3, §4: the token endpoint, bearer tokens and X-PB-TransactionId, over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2 as httpx
import pytest

from reconcile.sandbox import SandboxConfig, Store, create_app, serve_in_thread
from tests.support.sandbox import (
    API,
    SHARED_SSL_CONTEXT,
    SandboxAdmin,
    ServedSandboxHandle,
    expect_error,
)

TOKEN_FORM = {"grant_type": "client_credentials"}


class FakeClock:
    """Epoch seconds that move only when the test says so."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clocked_sandbox() -> Iterator[tuple[ServedSandboxHandle, FakeClock]]:
    """An emulator of its own whose clock is a FakeClock."""
    clock = FakeClock()
    config = SandboxConfig(key="clock-key", secret="clock-secret")
    with serve_in_thread(create_app(Store(), config, clock=clock)) as served:
        admin = SandboxAdmin(served.url)
        try:
            yield ServedSandboxHandle(served.url, config.key, config.secret, admin), clock
        finally:
            admin.close()


def token_request(
    sandbox: ServedSandboxHandle,
    auth: tuple[str, str] | None = None,
    data: dict[str, str] | None = None,
) -> httpx.Response:
    with httpx.Client(verify=SHARED_SSL_CONTEXT) as client:
        return client.post(
            f"{sandbox.url}/oauth/token",
            auth=auth or (sandbox.key, sandbox.secret),
            data=TOKEN_FORM if data is None else data,
        )


class TestTokenEndpoint:
    def test_valid_credentials_get_a_token_with_string_expiry(
        self, sandbox: ServedSandboxHandle
    ) -> None:
        """Basic key:secret + client_credentials gives access_token and a string expiresIn."""
        response = token_request(sandbox)
        assert response.status_code == 200
        body = response.json()
        assert body["access_token"]
        assert body["expiresIn"] == "35999"
        assert {"tokenType", "issuedAt", "clientID", "org"} <= set(body)
        assert sandbox.admin.stats()["token_requests"] == 1

    def test_token_ttl_setting_changes_expires_in(self, sandbox: ServedSandboxHandle) -> None:
        """The configured token_ttl is what expiresIn reports."""
        sandbox.admin.configure(token_ttl=60)
        assert token_request(sandbox).json()["expiresIn"] == "60"

    def test_extra_token_fields_are_a_switch(self, sandbox: ServedSandboxHandle) -> None:
        """token_extra_fields false leaves only access_token and expiresIn (§13.2)."""
        sandbox.admin.configure(token_extra_fields=False)
        assert set(token_request(sandbox).json()) == {"access_token", "expiresIn"}

    @pytest.mark.parametrize(
        "auth",
        [("test-key", "wrong"), ("wrong", "test-secret"), ("", "")],
        ids=["bad-secret", "bad-key", "empty"],
    )
    def test_wrong_credentials_are_401(
        self, sandbox: ServedSandboxHandle, auth: tuple[str, str]
    ) -> None:
        """A wrong key or secret gets 401 with the unified error object."""
        expect_error(token_request(sandbox, auth=auth), 401)

    def test_missing_basic_header_is_401(
        self, sandbox: ServedSandboxHandle, http: httpx.Client
    ) -> None:
        """No Authorization header at the token endpoint gets 401."""
        response = http.post(f"{sandbox.url}/oauth/token", data=TOKEN_FORM)
        expect_error(response, 401)

    def test_malformed_basic_header_is_401(
        self, sandbox: ServedSandboxHandle, http: httpx.Client
    ) -> None:
        """An Authorization header that is not valid base64 gets 401, not a crash."""
        headers = {"Authorization": "Basic %%%not-base64"}
        response = http.post(f"{sandbox.url}/oauth/token", data=TOKEN_FORM, headers=headers)
        expect_error(response, 401)

    @pytest.mark.parametrize("form", [{}, {"grant_type": "password"}])
    def test_wrong_grant_type_is_400(
        self, sandbox: ServedSandboxHandle, form: dict[str, str]
    ) -> None:
        """grant_type other than client_credentials gets 400 naming grant_type."""
        expect_error(token_request(sandbox, data=form), 400, "grant_type")

    def test_get_on_the_token_endpoint_is_405(
        self, sandbox: ServedSandboxHandle, http: httpx.Client
    ) -> None:
        """The token endpoint only accepts POST."""
        expect_error(http.get(f"{sandbox.url}/oauth/token"), 405)


class TestBearerToken:
    def test_missing_bearer_is_401_with_code_1000032(
        self, sandbox: ServedSandboxHandle, http: httpx.Client
    ) -> None:
        """A PB route without a token gets 401, errorCode 1000032."""
        headers = {"X-PB-TransactionId": "t1"}
        response = http.get(f"{sandbox.api}/products/X", headers=headers)
        assert expect_error(response, 401)["errorCode"] == "1000032"

    def test_the_401_error_code_is_a_setting(
        self, sandbox: ServedSandboxHandle, http: httpx.Client
    ) -> None:
        """auth_error_code changes the errorCode of 401 answers (§13.3)."""
        sandbox.admin.configure(auth_error_code="PB-APIM-ERR-1002")
        response = http.get(f"{sandbox.api}/products/X", headers={"X-PB-TransactionId": "t1"})
        assert expect_error(response, 401)["errorCode"] == "PB-APIM-ERR-1002"

    def test_unknown_bearer_is_401(self, sandbox: ServedSandboxHandle, http: httpx.Client) -> None:
        """A token the emulator never issued gets 401."""
        headers = {"Authorization": "Bearer nope", "X-PB-TransactionId": "t1"}
        expect_error(http.get(f"{sandbox.api}/products/X", headers=headers), 401)

    def test_expired_tokens_are_401_until_a_new_token_is_fetched(
        self, sandbox: ServedSandboxHandle, http: httpx.Client
    ) -> None:
        """After tokens/expire the old token gets 401 and a fresh one works again."""
        old = sandbox.token()
        headers = {"Authorization": f"Bearer {old}", "X-PB-TransactionId": "t1"}
        assert http.get(f"{sandbox.api}/products/X", headers=headers).status_code == 404
        assert sandbox.admin.expire_tokens() >= 1
        expect_error(http.get(f"{sandbox.api}/products/X", headers=headers), 401)
        headers["Authorization"] = f"Bearer {sandbox.token()}"
        assert http.get(f"{sandbox.api}/products/X", headers=headers).status_code == 404

    def test_token_past_its_ttl_is_401(
        self, clocked_sandbox: tuple[ServedSandboxHandle, FakeClock]
    ) -> None:
        """A token whose lifetime has passed is rejected (ttl 1 s, then the clock passes it)."""
        sandbox, clock = clocked_sandbox
        sandbox.admin.configure(token_ttl=1)
        token = sandbox.token()
        headers = {"Authorization": f"Bearer {token}", "X-PB-TransactionId": "t1"}
        with httpx.Client(base_url=sandbox.api, verify=SHARED_SSL_CONTEXT) as http:
            assert http.get("/products/X", headers=headers).status_code == 404
            clock.advance(1.1)
            expect_error(http.get("/products/X", headers=headers), 401)


class TestTransactionId:
    @pytest.mark.parametrize(
        "value",
        ["a" * 26, "has space", "dots.are.bad", "slash/", "semi;colon"],
        ids=["too-long", "space", "dot", "slash", "semicolon"],
    )
    def test_invalid_transaction_ids_are_400(
        self, sandbox: ServedSandboxHandle, http: httpx.Client, value: str
    ) -> None:
        """An X-PB-TransactionId outside ^[A-Za-z0-9_-]{1,25}$ gets 400 naming the header."""
        headers = {"Authorization": f"Bearer {sandbox.token()}", "X-PB-TransactionId": value}
        response = http.get(f"{sandbox.api}/products/X", headers=headers)
        expect_error(response, 400, "X-PB-TransactionId")

    def test_missing_transaction_id_is_400(self, sandbox: ServedSandboxHandle) -> None:
        """A PB request without X-PB-TransactionId gets 400 naming the header."""
        with sandbox.client(transaction_ids=False) as client:
            expect_error(client.get("/products/X"), 400, "X-PB-TransactionId")

    def test_25_allowed_characters_are_accepted(self, sandbox: ServedSandboxHandle) -> None:
        """The longest legal id (25 of letters, digits, - and _) passes the header check."""
        with sandbox.client() as client:
            response = client.get("/products/X", headers={"X-PB-TransactionId": "aZ09-_" * 4 + "x"})
        assert response.status_code == 404  # past the header check, the sku is unknown

    def test_reuse_is_accepted_by_default(self, api: httpx.Client) -> None:
        """Duplicate transaction ids are accepted unless strict mode is on (§13.4)."""
        for _ in range(2):
            assert api.get("/products/X", headers={"X-PB-TransactionId": "same"}).status_code == 404

    def test_reuse_is_400_in_strict_mode(
        self, sandbox: ServedSandboxHandle, api: httpx.Client
    ) -> None:
        """With strict_transaction_ids a reused id gets 400 naming the header."""
        sandbox.admin.configure(strict_transaction_ids=True)
        assert api.get("/products/X", headers={"X-PB-TransactionId": "once"}).status_code == 404
        response = api.get("/products/X", headers={"X-PB-TransactionId": "once"})
        expect_error(response, 400, "X-PB-TransactionId")

    def test_the_log_records_each_transaction_id(
        self, sandbox: ServedSandboxHandle, api: httpx.Client
    ) -> None:
        """The request log keeps the transaction id each request carried."""
        api.get("/products/X", headers={"X-PB-TransactionId": "trace-me"})
        entries = [e for e in sandbox.admin.log() if e["route"] == f"{API}/products/{{sku}}"]
        assert entries[-1]["transaction_id"] == "trace-me"
