"""The client's building blocks that need no server: ids, pacing, URL rules, parsing."""

from __future__ import annotations

import re
import ssl

import httpx2 as httpx
import pytest

from reconcile.errors import InsecureTransport
from reconcile.remote import wire
from reconcile.remote.auth import refresh_margin, token_lifetime
from reconcile.remote.failure import details_of, maybe_applied, retry_after_seconds
from reconcile.remote.ratelimit import RateLimiter
from reconcile.remote.redact import MASK, Redactor, basic_credentials
from reconcile.remote.tls import check_base_url, is_loopback, tls_context
from reconcile.remote.transaction import TransactionIds, check_run_id, new_run_id

ID_RULE = re.compile(r"^[A-Za-z0-9_-]{1,25}$")


class TestTransactionIds:
    def test_ids_follow_pb_rules_and_never_repeat(self) -> None:
        """Every id is at most 25 characters of [A-Za-z0-9_-] and unique across a run."""
        ids = TransactionIds(new_run_id())
        seen = set()
        for _ in range(3000):
            operation = ids.operation("bom.create")
            for _attempt in range(3):
                seen.add(operation.next())
        assert len(seen) == 9000
        assert all(ID_RULE.match(i) for i in seen)

    def test_id_names_run_operation_and_attempt(self) -> None:
        """An id reads <run>-<op code><sequence>-<attempt>, the attempt counting up."""
        ids = TransactionIds("abc123")
        operation = ids.operation("product.create")
        first, second = operation.next(), operation.next()
        assert re.match(r"^abc123-PC[0-9A-Z]{4}-1$", first)
        assert second == first[:-1] + "2"

    def test_longest_possible_id_fits(self) -> None:
        """With a 10-character run id and 40 attempts the id still fits 25 characters."""
        operation = TransactionIds(new_run_id()).operation("inventory.snapshot")
        last = [operation.next() for _ in range(40)][-1]
        assert len(last) <= wire.TRANSACTION_ID_MAX

    def test_two_clients_sharing_a_run_id_get_distinct_ids(self) -> None:
        """The sequence is per run id for the whole process, not per client."""
        a, b = TransactionIds("shared1"), TransactionIds("shared1")
        assert a.operation("bom.search").next() != b.operation("bom.search").next()

    def test_bad_run_id_is_refused(self) -> None:
        """A run id that would break PB's id rules is refused up front."""
        with pytest.raises(ValueError, match="1-10 letters or digits"):
            check_run_id("run_id_with_underscores")


class TestRateLimiter:
    def test_starts_are_spaced_by_the_interval(self) -> None:
        """Booked start times are 1/rate apart, with no burst allowance."""
        now = [100.0]
        limiter = RateLimiter(50, clock=lambda: now[0])
        waits = [limiter.reserve() for _ in range(5)]
        assert waits == pytest.approx([0.0, 0.02, 0.04, 0.06, 0.08])

    def test_idle_time_is_not_saved_up(self) -> None:
        """After a pause the next request starts at once but the one after still waits."""
        now = [0.0]
        limiter = RateLimiter(10, clock=lambda: now[0])
        limiter.reserve()
        now[0] = 5.0
        assert limiter.reserve() == 0.0
        assert limiter.reserve() == pytest.approx(0.1)


class TestBaseUrl:
    @pytest.mark.parametrize(
        "url",
        [
            "http://127.0.0.1:8080",
            "http://127.8.9.10",
            "http://[::1]:9000/",
            "http://localhost:1234",
            "https://shipping-api.pitneybowes.com",
        ],
    )
    def test_allowed(self, url: str) -> None:
        """HTTPS anywhere and plain HTTP to loopback addresses are accepted."""
        assert check_base_url(url) == url.rstrip("/")

    @pytest.mark.parametrize(
        ("url", "reason"),
        [
            ("http://shipping-api.pitneybowes.com", "refusing plain http"),
            ("http://10.0.0.5:8080", "refusing plain http"),
            ("http://128.0.0.1", "refusing plain http"),
            ("ftp://example.com", "not an http"),
            ("https://user:pw@example.com", "must not carry credentials"),
            ("https://example.com/?x=1", "query or fragment"),
            ("shipping-api.pitneybowes.com", "not an http"),
        ],
    )
    def test_refused(self, url: str, reason: str) -> None:
        """Plain HTTP beyond loopback, and URLs carrying secrets, raise InsecureTransport."""
        with pytest.raises(InsecureTransport, match=reason) as caught:
            check_base_url(url)
        assert caught.value.exit_code == 4

    def test_loopback_detection(self) -> None:
        """127.0.0.0/8, ::1 and localhost are loopback; look-alikes are not."""
        assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
        assert not is_loopback("127.0.0.1.example.com") and not is_loopback("10.0.0.1")

    def test_tls_context_requires_tls_1_2(self) -> None:
        """The HTTPS context refuses anything older than TLS 1.2 and verifies certificates."""
        context = tls_context()
        assert context.minimum_version == ssl.TLSVersion.TLSv1_2
        assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


class TestParsing:
    @pytest.mark.parametrize(
        ("body", "seconds"),
        [
            ({"expiresIn": "35999"}, 35999.0),
            ({"expiresIn": 120}, 120.0),
            ({"expiresIn": "2.5"}, 2.5),
            ({}, wire.TOKEN_DEFAULT_TTL_SECONDS),
            ({"expiresIn": "soon"}, wire.TOKEN_DEFAULT_TTL_SECONDS),
            ({"expiresIn": True}, wire.TOKEN_DEFAULT_TTL_SECONDS),
        ],
    )
    def test_token_lifetime(self, body: dict[str, object], seconds: float) -> None:
        """expiresIn is read as a string or a number; junk falls back to PB's example."""
        assert token_lifetime(body) == seconds

    def test_refresh_margin(self) -> None:
        """Tokens are refreshed five minutes early, or a tenth early when short-lived."""
        assert refresh_margin(35999) == 300
        assert refresh_margin(10) == pytest.approx(1.0)

    def test_retry_after_forms(self) -> None:
        """Retry-After is read as delta-seconds or an HTTP date; junk is ignored."""
        assert retry_after_seconds(httpx.Response(429, headers={"Retry-After": "3"})) == 3.0
        dated = httpx.Response(503, headers={"Retry-After": "Sun, 22 Nov 2026 10:00:10 GMT"})
        assert retry_after_seconds(dated, now=1795341600.0) == pytest.approx(10.0)
        assert retry_after_seconds(httpx.Response(429, headers={"Retry-After": "x"})) is None
        assert retry_after_seconds(httpx.Response(429)) is None

    def test_error_details_unified_and_legacy(self) -> None:
        """errorDescription is read, with message as the legacy fallback."""
        unified = httpx.Response(
            400,
            json={"errors": [{"errorCode": "1", "errorDescription": "bad", "parameters": ["sku"]}]},
        )
        legacy = httpx.Response(400, json={"errors": [{"errorCode": "2", "message": "old"}]})
        assert [str(d) for d in details_of(unified)] == ["1: bad [sku]"]
        assert [str(d) for d in details_of(legacy)] == ["2: old"]
        assert details_of(httpx.Response(502, text="<html>bad gateway</html>")) == []

    def test_which_failures_may_have_applied_a_write(self) -> None:
        """Only faults before the request left, and 429, are known not to have applied."""
        assert not maybe_applied(httpx.ConnectError("refused"), None)
        assert maybe_applied(httpx.ReadTimeout("slow"), None)
        assert maybe_applied(httpx.RemoteProtocolError("closed"), None)
        assert maybe_applied(None, 502) and not maybe_applied(None, 429)


class TestRedactor:
    def test_masks_secrets_and_their_basic_encoding(self) -> None:
        """Key, secret, the Basic value and added tokens are all masked."""
        redact = Redactor("the-key", "the-secret")
        redact.add("tok-123456")
        text = f"a the-key b the-secret c {basic_credentials('the-key', 'the-secret')} tok-123456"
        assert redact(text) == f"a {MASK} b {MASK} c {MASK} {MASK}"
        assert "the-key" not in repr(redact)
