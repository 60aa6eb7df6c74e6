"""PBClient against the emulator over loopback HTTP: auth, retries, writes, paging, pacing."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from typing import Any

import pytest
from pydantic import SecretStr

from reconcile.errors import (
    AuthError,
    InsecureTransport,
    NotFoundError,
    RateLimited,
    RemoteError,
    RemoteStateError,
    Unavailable,
    ValidationFailed,
)
from reconcile.remote import wire
from reconcile.remote.client import PBClient
from reconcile.settings import Credentials, Limits
from tests.support.client import collect, make_client, run
from tests.support.sandbox import ServedSandboxHandle, bom, product


def load_products(sandbox: ServedSandboxHandle, count: int, client_id: str = "C1") -> None:
    sandbox.admin.load(products=[product(f"SKU-{i:05d}", client_id) for i in range(count)])


class TestTokens:
    def test_one_token_for_a_whole_run(self, sandbox: ServedSandboxHandle) -> None:
        """A run of many operations, some concurrent, asks for exactly one token."""
        load_products(sandbox, 30)

        async def work(client: PBClient) -> int:
            await asyncio.gather(*(client.get_product("C1", f"SKU-{i:05d}") for i in range(10)))
            await collect(client.search_products("C1"))
            await client.create_product(product("NEW-1"))
            return client.request_count

        requests = run(make_client(sandbox), work)
        stats = sandbox.admin.stats()
        assert stats["token_requests"] == 1
        assert requests == stats["total"]  # every request counted, the token request included

    def test_short_lived_token_is_refreshed_before_it_expires(
        self, sandbox: ServedSandboxHandle
    ) -> None:
        """With a 1-second token, a request once the client's clock has passed its expiry
        gets a new token first, never a 401."""
        sandbox.admin.configure(token_ttl=1)
        now = [100.0]

        async def work(client: PBClient) -> None:
            await client.get_product("C1", "A")
            now[0] += 1.2
            await client.get_product("C1", "A")

        run(make_client(sandbox, clock=lambda: now[0]), work)
        assert sandbox.admin.stats()["token_requests"] == 2
        assert sandbox.admin.count(status=401) == 0

    def test_revoked_token_is_refreshed_once_and_the_request_resent(
        self, sandbox: ServedSandboxHandle
    ) -> None:
        """After the server drops its tokens, the 401 leads to one refresh and a re-send."""
        load_products(sandbox, 1)

        async def work(client: PBClient) -> dict[str, Any] | None:
            await client.get_product("C1", "SKU-00000")
            sandbox.admin.expire_tokens()
            return await client.get_product("C1", "SKU-00000")

        assert run(make_client(sandbox), work) is not None
        assert sandbox.admin.stats()["token_requests"] == 2
        assert sandbox.admin.count(status=401) == 1

    def test_concurrent_401s_share_one_refresh(self, sandbox: ServedSandboxHandle) -> None:
        """Ten requests refused together with one stale token cause a single refresh."""
        load_products(sandbox, 10)

        async def work(client: PBClient) -> list[dict[str, Any] | None]:
            await client.get_product("C1", "SKU-00000")
            sandbox.admin.expire_tokens()
            reads = (client.get_product("C1", f"SKU-{i:05d}") for i in range(10))
            return list(await asyncio.gather(*reads))

        assert all(run(make_client(sandbox, max_in_flight=10), work))
        assert sandbox.admin.stats()["token_requests"] == 2

    def test_bad_credentials_name_the_variables_not_the_values(
        self, sandbox: ServedSandboxHandle
    ) -> None:
        """Rejected credentials raise AuthError (exit 4) naming the variables read."""

        async def main() -> None:
            async with make_client(sandbox, key="wrong-key-123", secret="wrong-secret-456") as c:
                await c.get_product("C1", "A")

        with pytest.raises(AuthError) as caught:
            asyncio.run(main())
        message = str(caught.value)
        assert caught.value.exit_code == 4 and caught.value.status == 401
        assert "PB_TEST_API_KEY" in message and "PB_TEST_API_SECRET" in message
        assert "wrong-key-123" not in message and "wrong-secret-456" not in message
        assert caught.value.transaction_id in message


class TestHeaders:
    def test_every_attempt_has_its_own_transaction_id(self, sandbox: ServedSandboxHandle) -> None:
        """Retries of one operation carry distinct ids that share the operation's stem."""
        sandbox.admin.fault("503", path_prefix=f"{wire.PRODUCTS_PATH}/", times=2)

        async def work(client: PBClient) -> str:
            await client.get_product("C1", "A")
            return client.run_id

        run_id = run(make_client(sandbox), work)
        ids = [e["transaction_id"] for e in sandbox.admin.log() if e["route"] != wire.TOKEN_PATH]
        assert len(ids) == 3 and len(set(ids)) == 3
        assert {i.rsplit("-", 1)[0] for i in ids} == {ids[0].rsplit("-", 1)[0]}
        assert [i.rsplit("-", 1)[1] for i in ids] == ["1", "2", "3"]
        assert all(i.startswith(f"{run_id}-PG") and len(i) <= 25 for i in ids)


class TestRetries:
    @pytest.mark.parametrize("action", ["429", "500", "502", "503", "504", "drop"])
    def test_each_retryable_fault_is_retried(
        self, sandbox: ServedSandboxHandle, action: str
    ) -> None:
        """A read that meets one retryable status or a dropped connection still succeeds."""
        load_products(sandbox, 1)
        sandbox.admin.fault(action, method="GET", path_prefix=wire.PRODUCTS_PATH, retry_after=0)

        found = run(make_client(sandbox), lambda c: c.get_product("C1", "SKU-00000"))
        assert found is not None and found["sku"] == "SKU-00000"
        statuses = [e["status"] for e in sandbox.admin.log() if e["method"] == "GET"]
        assert statuses[-1] == 200 and len(statuses) == 2

    def test_seeded_random_faults_do_not_break_a_run(self, sandbox: ServedSandboxHandle) -> None:
        """With a fifth of answers failing at random (fixed seed), every read completes."""
        load_products(sandbox, 40)
        sandbox.admin.configure(fault_rate=0.2, seed=1234, fault_kinds=["500", "503", "drop"])

        async def work(client: PBClient) -> list[dict[str, Any] | None]:
            reads = (client.get_product("C1", f"SKU-{i:05d}") for i in range(40))
            return list(await asyncio.gather(*reads))

        assert all(run(make_client(sandbox, retry_attempts=10), work))
        assert sandbox.admin.count(method="GET", status=200) == 40
        assert sandbox.admin.stats()["total"] > 41  # faults did happen

    def test_retry_after_is_honoured(self, sandbox: ServedSandboxHandle) -> None:
        """After a 429 with Retry-After: 0.6, the next attempt comes no sooner than that."""
        sandbox.admin.fault("429", method="GET", retry_after=0.6)

        run(make_client(sandbox), lambda c: c.get_product("C1", "A"))
        gets = [e for e in sandbox.admin.log() if e["method"] == "GET"]
        assert [e["status"] for e in gets] == [429, 404]
        assert gets[1]["ts"] - gets[0]["ts"] >= 0.6

    def test_retry_after_beyond_the_budget_gives_up_at_once(
        self, sandbox: ServedSandboxHandle
    ) -> None:
        """A Retry-After longer than the whole retry budget ends the call with RateLimited."""
        sandbox.admin.fault("429", method="GET", retry_after=60)

        with pytest.raises(RateLimited, match="Retry-After") as caught:
            run(make_client(sandbox, retry_timeout_seconds=5), lambda c: c.get_product("C1", "A"))
        assert caught.value.status == 429
        assert sandbox.admin.count(method="GET") == 1

    def test_exhausted_retries_raise_a_clear_error(self, sandbox: ServedSandboxHandle) -> None:
        """When every attempt fails, Unavailable says how often it tried and carries the id."""
        sandbox.admin.fault("503", method="GET", times=10, retry_after=0)

        with pytest.raises(Unavailable) as caught:
            client = make_client(sandbox, retry_attempts=2, read_retry_attempts=3)
            run(client, lambda c: c.get_product("C1", "A"))
        error = caught.value
        assert error.exit_code == 4 and error.status == 503
        assert "gave up after 3 attempts" in str(error)
        assert error.operation == "product.get" and error.resource == "product.A"
        assert error.transaction_id.endswith("-3") and error.transaction_id in str(error)
        assert sandbox.admin.count(method="GET") == 3

    def test_total_retry_time_is_bounded(self, sandbox: ServedSandboxHandle) -> None:
        """With a 0.3 s budget and 0.2 s backoffs, the call ends long before 20 attempts."""
        sandbox.admin.fault("503", method="GET", times=50)

        with pytest.raises(Unavailable, match="gave up after"):
            run(
                make_client(
                    sandbox,
                    retry_attempts=20,
                    retry_timeout_seconds=0.3,
                    retry_wait_initial_seconds=0.2,
                    retry_wait_max_seconds=0.2,
                ),
                lambda c: c.get_product("C1", "A"),
            )
        assert 2 <= sandbox.admin.count(method="GET") <= 4

    def test_dropped_connections_exhausted(self, sandbox: ServedSandboxHandle) -> None:
        """Connections dropped on every attempt end in Unavailable that says so."""
        sandbox.admin.fault("drop", method="GET", times=10)

        with pytest.raises(Unavailable, match="connection to PB broke"):
            client = make_client(sandbox, retry_attempts=2, read_retry_attempts=2)
            run(client, lambda c: c.get_product("C1", "A"))

    def test_reads_get_more_attempts_than_writes(self, sandbox: ServedSandboxHandle) -> None:
        """Reads are idempotent: 6 faults in a row end a write (5 attempts) but a read
        (10 attempts by default) comes through."""
        sandbox.admin.load(products=[product("A")])
        sandbox.admin.fault("503", method="GET", times=6, retry_after=0)
        fast = {"retry_wait_initial_seconds": 0.01, "retry_wait_max_seconds": 0.01}
        found = run(make_client(sandbox, **fast), lambda c: c.get_product("C1", "A"))
        assert found is not None and found["sku"] == "A"
        sandbox.admin.fault("503", method="PUT", times=6, retry_after=0)
        with pytest.raises(Unavailable, match="gave up after 5 attempts"):
            run(make_client(sandbox, **fast), lambda c: c.update_product("A", product("A")))


class TestUnknownOutcome:
    @pytest.mark.parametrize("action", ["500", "502", "504", "drop"])
    def test_bom_create_lost_after_commit_is_not_duplicated(
        self, sandbox: ServedSandboxHandle, action: str
    ) -> None:
        """A BOM create that committed but failed on the way back leaves exactly one BOM."""
        sandbox.admin.load(products=[product("KIT-1", productType="KIT"), product("PART-1")])
        sandbox.admin.fault(
            action, method="POST", path_prefix=wire.BOMS_PATH, after_commit=True, retry_after=0
        )
        sent = bom("KIT-1", ("PART-1", 2), node="NODE-A")

        async def work(client: PBClient) -> tuple[dict[str, Any], list[dict[str, Any]]]:
            created = await client.create_bom(sent)
            return created, await collect(client.search_boms("C1", include_inactive=True))

        created, stored = run(make_client(sandbox), work)
        assert len(stored) == 1
        assert wire.bom_id_of(created) == wire.bom_id_of(stored[0]) is not None
        assert sandbox.admin.count(method="POST", route=wire.BOMS_PATH) == 1

    def test_bom_create_lost_before_commit_is_retried(self, sandbox: ServedSandboxHandle) -> None:
        """When the search finds nothing, the create is sent again and succeeds once."""
        sandbox.admin.load(products=[product("KIT-1", productType="KIT"), product("PART-1")])
        sandbox.admin.fault("503", method="POST", path_prefix=wire.BOMS_PATH, retry_after=0)

        async def work(client: PBClient) -> list[dict[str, Any]]:
            await client.create_bom(bom("KIT-1", ("PART-1", 1)))
            return await collect(client.search_boms("C1"))

        assert len(run(make_client(sandbox), work)) == 1
        assert sandbox.admin.count(method="POST", route=wire.BOMS_PATH, status=201) == 1

    def test_bom_create_stops_when_another_active_bom_holds_the_key(
        self, sandbox: ServedSandboxHandle
    ) -> None:
        """A differing active BOM under the key may be ours altered: no retry, a clear error."""
        sandbox.admin.load(
            products=[product("KIT-1", productType="KIT"), product("PART-1")],
            boms=[bom("KIT-1", ("PART-1", 5), node="NODE-A")],
        )
        sandbox.admin.fault("500", method="POST", path_prefix=wire.BOMS_PATH, retry_after=0)

        with pytest.raises(RemoteStateError, match="not retrying, to avoid a duplicate"):
            run(
                make_client(sandbox),
                lambda c: c.create_bom(bom("KIT-1", ("PART-1", 1), node="NODE-A")),
            )
        assert sandbox.admin.count(method="POST", route=wire.BOMS_PATH) == 1

    def test_product_create_lost_after_commit_is_read_back(
        self, sandbox: ServedSandboxHandle
    ) -> None:
        """A retried create answered "already exists" returns the stored, identical product."""
        sandbox.admin.fault(
            "502", method="POST", path_prefix=wire.PRODUCTS_PATH, after_commit=True, retry_after=0
        )
        sent = product("P-1")

        created = run(make_client(sandbox), lambda c: c.create_product(sent))
        assert created["sku"] == "P-1" and created["details"] == sent["details"]
        assert sandbox.admin.count(method="POST", status=400) == 1  # the duplicate, resolved

    def test_product_create_conflict_after_retry_is_an_error(
        self, sandbox: ServedSandboxHandle
    ) -> None:
        """If the product PB holds differs from what we sent, the 400 stands and says why."""
        sandbox.admin.load(products=[product("P-1", details={"description": "someone else"})])
        sandbox.admin.fault("500", method="POST", path_prefix=wire.PRODUCTS_PATH, retry_after=0)

        with pytest.raises(ValidationFailed, match="differs from what was sent"):
            run(make_client(sandbox), lambda c: c.create_product(product("P-1")))


class TestPagination:
    def test_server_capped_page_size_is_followed(self, sandbox: ServedSandboxHandle) -> None:
        """Asking 100 per page from a server that serves 7 still returns every product once."""
        load_products(sandbox, 50)
        sandbox.admin.configure(page_max=7)
        pages: list[tuple[int, int]] = []

        async def work(client: PBClient) -> list[dict[str, Any]]:
            return await collect(
                client.search_products("C1", on_page=lambda d, t: pages.append((d, t)))
            )

        found = run(make_client(sandbox, page_size=100), work)
        assert sorted(p["sku"] for p in found) == [f"SKU-{i:05d}" for i in range(50)]
        assert sandbox.admin.count(route=wire.PRODUCTS_SEARCH_PATH) == math.ceil(50 / 7)
        assert pages == [(i, 8) for i in range(1, 9)]

    def test_results_come_in_page_order(self, sandbox: ServedSandboxHandle) -> None:
        """Pages fetched concurrently are still yielded in the server's order."""
        load_products(sandbox, 45)

        found = run(
            make_client(sandbox, page_size=10),
            lambda c: collect(c.search_products("C1", sort=["pbCreateDate-asc"])),
        )
        assert [p["sku"] for p in found] == [f"SKU-{i:05d}" for i in range(45)]

    def test_empty_result_is_one_request(self, sandbox: ServedSandboxHandle) -> None:
        """A search with no match costs one page request and yields nothing."""
        found = run(make_client(sandbox), lambda c: collect(c.search_products("NOBODY")))
        assert found == []
        assert sandbox.admin.count(route=wire.PRODUCTS_SEARCH_PATH) == 1

    def test_stopping_early_cancels_the_other_pages(self, sandbox: ServedSandboxHandle) -> None:
        """Leaving the loop after the first item ends cleanly, without stray page tasks."""
        load_products(sandbox, 60)
        sandbox.admin.configure(latency_ms=30)

        async def work(client: PBClient) -> str:
            pages = client.search_products("C1")
            first = await anext(pages)
            await pages.aclose()  # type: ignore[attr-defined]
            return str(first["sku"])

        assert run(make_client(sandbox, page_size=5, max_in_flight=2), work) == "SKU-00000"

    def test_pages_left_unread_end_with_the_client(self, sandbox: ServedSandboxHandle) -> None:
        """A search abandoned mid-way (not closed) has no page request left after the client."""
        load_products(sandbox, 60)
        sandbox.admin.configure(latency_ms=30)
        leftovers: list[str] = []

        async def main() -> None:
            async with make_client(sandbox, page_size=5, max_in_flight=2) as client:
                pages = client.search_products("C1")
                for _ in range(6):  # page 1, then the first item of page 2: pages in flight
                    await anext(pages)
            leftovers.extend(
                t.get_coro().__qualname__  # type: ignore[union-attr]
                for t in asyncio.all_tasks()
                if not t.done() and t.get_coro().__qualname__ == "Pager.page"  # type: ignore[union-attr]
            )
            del pages

        asyncio.run(main())
        assert leftovers == []

    def test_a_page_that_keeps_failing_fails_the_search(self, sandbox: ServedSandboxHandle) -> None:
        """When a later page exhausts its retries the whole search raises, naming that page."""
        load_products(sandbox, 30)
        sandbox.admin.configure(page_max=10)

        def break_the_rest(done: int, total: int) -> None:
            if done == 1:
                sandbox.admin.fault("503", path_prefix=wire.PRODUCTS_SEARCH_PATH, times=50)

        async def work(client: PBClient) -> list[dict[str, Any]]:
            return await collect(client.search_products("C1", on_page=break_the_rest))

        with pytest.raises(Unavailable, match=r"product\.search page 2: PB is unavailable"):
            run(make_client(sandbox, retry_attempts=2, read_retry_attempts=2), work)

    def test_boms_and_inventory_page_too(self, sandbox: ServedSandboxHandle) -> None:
        """BOM search (inactive on request) and the inventory snapshot walk every page."""
        parts = [product(f"PART-{i}") for i in range(3)]
        kits = [product(f"KIT-{i:02d}", productType="KIT") for i in range(12)]
        boms = [bom(f"KIT-{i:02d}", ("PART-1", 1), active=i % 3 != 0) for i in range(12)]
        inventory = [{"clientId": "C1", "sku": f"PART-{i}", "quantity": i} for i in range(3)]
        sandbox.admin.load(products=parts + kits, boms=boms, inventory=inventory)
        sandbox.admin.configure(page_max=5)

        async def work(client: PBClient) -> tuple[int, int, int]:
            active = await collect(client.search_boms("C1"))
            every = await collect(client.search_boms("C1", include_inactive=True))
            stock = await collect(client.inventory_snapshot("C1"))
            return len(active), len(every), len(stock)

        assert run(make_client(sandbox), work) == (8, 12, 3)


class TestPacing:
    def test_rate_limit_holds_in_the_server_log(self, sandbox: ServedSandboxHandle) -> None:
        """At 40 requests/s, no window of the emulator's log holds more than 40 per second."""
        load_products(sandbox, 60)
        rate = 40

        async def work(client: PBClient) -> None:
            await asyncio.gather(*(client.get_product("C1", f"SKU-{i:05d}") for i in range(60)))

        run(make_client(sandbox, requests_per_second=rate, max_in_flight=16), work)
        stamps = sorted(e["ts"] for e in sandbox.admin.log())
        assert len(stamps) == 61
        # Starts are spaced exactly (see TestRateLimiter); the server stamps answers, and its
        # single thread may bunch a few when a loaded machine pauses it. At 100 requests/s
        # the same windows span 0.4 s, so the check still bites.
        tolerance = 0.2
        for first, later in zip(stamps, stamps[rate:], strict=False):
            assert later - first >= 1.0 - tolerance

    def test_in_flight_bound(self, sandbox: ServedSandboxHandle) -> None:
        """With 2 requests in flight and 100 ms latency, 8 reads take at least 4 round trips."""
        sandbox.admin.configure(latency_ms=100)

        async def work(client: PBClient) -> float:
            await client.get_product("C1", "warm-up")  # token and connection
            started = time.monotonic()
            await asyncio.gather(*(client.get_product("C1", f"X{i}") for i in range(8)))
            return time.monotonic() - started

        assert run(make_client(sandbox, max_in_flight=2), work) >= 0.4


class TestErrors:
    def test_validation_error_carries_pb_details(self, sandbox: ServedSandboxHandle) -> None:
        """A 400 becomes ValidationFailed with PB's parameters, status, resource and id."""
        bad = product("P-1", productType="GADGET")

        with pytest.raises(ValidationFailed) as caught:
            run(make_client(sandbox), lambda c: c.create_product(bad))
        error = caught.value
        assert error.status == 400 and error.operation == "product.create"
        assert error.resource == "product.P-1" and error.transaction_id
        assert any("productType" in d.parameters for d in error.details)
        assert all(d.description for d in error.details)

    def test_update_of_unknown_product_is_not_found(self, sandbox: ServedSandboxHandle) -> None:
        """A PUT to a SKU PB does not hold raises NotFoundError (not retried)."""
        with pytest.raises(NotFoundError):
            run(make_client(sandbox), lambda c: c.update_product("NOPE", product("NOPE")))
        assert sandbox.admin.count(method="PUT") == 1

    def test_bulk_rejects_oversized_batches(self, sandbox: ServedSandboxHandle) -> None:
        """More than PB's bulk maximum is a programming error caught before any request."""
        items = [
            {**product(f"B{i}"), "operation": "CREATE"} for i in range(wire.BULK_MAX_ITEMS + 1)
        ]
        with pytest.raises(ValueError, match="bulk call takes"):
            run(make_client(sandbox), lambda c: c.bulk_products(items))

    def test_bulk_writes_products(self, sandbox: ServedSandboxHandle) -> None:
        """A bulk call creates and updates products in one request."""
        sandbox.admin.load(products=[product("B0")])
        items = [
            {**product("B0", details={"description": "changed"}), "operation": "UPDATE"},
            {**product("B1"), "operation": "CREATE"},
        ]

        async def work(client: PBClient) -> list[dict[str, Any] | None]:
            await client.bulk_products(items)
            return [await client.get_product("C1", s) for s in ("B0", "B1")]

        b0, b1 = run(make_client(sandbox), work)
        assert b0 is not None and b0["details"] == {"description": "changed"} and b1 is not None

    def test_methods_need_the_context_manager(self, sandbox: ServedSandboxHandle) -> None:
        """Using the client outside `async with` is a clear programming error."""
        client = make_client(sandbox)
        with pytest.raises(RuntimeError, match="async with"):
            asyncio.run(client.get_product("C1", "A"))


class TestTransportSecurity:
    def test_plain_http_to_a_remote_host_is_refused(self) -> None:
        """A client for http:// on a non-loopback host cannot even be built."""
        with pytest.raises(InsecureTransport, match="refusing plain http"):
            PBClient(
                base_url="http://shipping-api.pitneybowes.com",
                credentials=Credentials(SecretStr("k" * 8), SecretStr("s" * 8)),
                limits=Limits(),
                environment="x",
            )


class TestSecrets:
    def test_no_secret_in_logs_errors_or_reprs(
        self, sandbox: ServedSandboxHandle, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Through auth, retries, 401s and failures, key/secret/token never appear anywhere."""
        caplog.set_level(logging.DEBUG)
        for name in ("httpx2", "httpcore2", "stamina"):
            caplog.set_level(logging.DEBUG, logger=name)
        sandbox.admin.fault("500", method="GET", retry_after=0)
        sandbox.admin.fault("429", method="POST", path_prefix=wire.TOKEN_PATH, retry_after=0)
        texts: list[str] = []

        async def main() -> str:
            async with make_client(sandbox, retry_attempts=3) as client:
                await client.get_product("C1", "A")
                await collect(client.search_products("C1"))
                sandbox.admin.expire_tokens()
                await client.get_product("C1", "A")
                for failing in (
                    client.create_product(product("BAD", productType="GADGET")),
                    client.update_product("NOPE", product("NOPE")),
                ):
                    try:
                        await failing
                    except RemoteError as e:
                        texts.extend([str(e), repr(e), repr(e.details)])
                texts.extend([repr(client), repr(client._tokens), repr(client.pacer)])
                token = client._tokens._token  # the live bearer token, to search for it
                assert token
                return token

        token = asyncio.run(main())

        async def bad_login() -> None:
            async with make_client(sandbox, secret="not-the-secret") as client:
                await client.get_product("C1", "A")

        with pytest.raises(AuthError) as caught:
            asyncio.run(bad_login())
        texts.extend([str(caught.value), repr(caught.value)])
        texts.extend(record.getMessage() for record in caplog.records)
        output = "\n".join(texts)
        assert "HTTP" in output  # something was captured
        for secret in (sandbox.key, sandbox.secret, "not-the-secret", token):
            assert secret not in output
