"""Test controls: stats, log, reset, config, fixtures, backdate, faults, latency."""

from __future__ import annotations

import concurrent.futures
import time
from typing import Any

import httpx2 as httpx
import pytest

from tests.support.sandbox import (
    API,
    SHARED_SSL_CONTEXT,
    ServedSandboxHandle,
    bom,
    expect_error,
    product,
)

PRODUCT_ROUTE = f"{API}/products/{{sku}}"


class TestStatsAndLog:
    def test_stats_count_requests_by_route_template_and_status(
        self, sandbox: ServedSandboxHandle, api: httpx.Client
    ) -> None:
        """by_route groups by method, route template and status; total sums them."""
        api.post("/products", json=product("A1"))
        api.get("/products/A1")
        api.get("/products/B2")
        stats = sandbox.admin.stats()
        rows = {(r["method"], r["route"], r["status"]): r["count"] for r in stats["by_route"]}
        assert rows[("GET", PRODUCT_ROUTE, 200)] == 1
        assert rows[("GET", PRODUCT_ROUTE, 404)] == 1
        assert rows[("POST", f"{API}/products", 201)] == 1
        assert rows[("POST", "/oauth/token", 200)] == 1
        assert stats["total"] == sum(rows.values()) == 4
        assert stats["token_requests"] == 1

    def test_admin_requests_are_not_counted(self, sandbox: ServedSandboxHandle) -> None:
        """Calls to /__sandbox itself never show up in the stats."""
        sandbox.admin.stats()
        sandbox.admin.log()
        assert sandbox.admin.stats()["total"] == 0

    def test_log_lists_each_request_in_order(
        self, sandbox: ServedSandboxHandle, api: httpx.Client
    ) -> None:
        """Each log entry has ts, method, route, path, status and transaction_id."""
        before = time.time()
        api.get("/products/A1", headers={"X-PB-TransactionId": "one"})
        api.post("/products/search", json={"clientId": "C1"}, headers={"X-PB-TransactionId": "two"})
        entries = sandbox.admin.log()[-2:]
        assert [e["transaction_id"] for e in entries] == ["one", "two"]
        assert entries[0] == {
            "ts": entries[0]["ts"],
            "method": "GET",
            "route": PRODUCT_ROUTE,
            "path": f"{API}/products/A1",
            "status": 404,
            "transaction_id": "one",
        }
        assert before <= entries[0]["ts"] <= entries[1]["ts"] <= time.time()

    def test_log_can_be_narrowed_by_time_and_count(
        self, sandbox: ServedSandboxHandle, api: httpx.Client, http: httpx.Client
    ) -> None:
        """?since= keeps later entries, ?limit= the last N; bad values are 400."""
        api.get("/products/A1", headers={"X-PB-TransactionId": "first"})
        middle = sandbox.admin.log()[-1]["ts"]
        for name in ("second", "third"):
            api.get("/products/A1", headers={"X-PB-TransactionId": name})
        assert [e["transaction_id"] for e in sandbox.admin.log(since=middle)] == ["second", "third"]
        assert [e["transaction_id"] for e in sandbox.admin.log(limit=1)] == ["third"]
        expect_error(http.get("/__sandbox/log", params={"limit": "many"}), 400, "limit")

    def test_unmatched_routes_are_logged_under_one_name(
        self, sandbox: ServedSandboxHandle, api: httpx.Client
    ) -> None:
        """Unknown paths are counted as route "(unmatched)", not one row per path."""
        api.get("/nope/1")
        api.get("/nope/2")
        assert sandbox.admin.count("GET", "(unmatched)", 404) == 2


class TestResetAndConfig:
    def test_reset_wipes_data_stats_faults_and_config(
        self, sandbox: ServedSandboxHandle, api: httpx.Client
    ) -> None:
        """After reset the store is empty, counters zero, faults gone, config as at startup."""
        api.post("/products", json=product("A1"))
        sandbox.admin.configure(page_max=3, latency_ms=1)
        sandbox.admin.fault("500", path_prefix="/nowhere")
        sandbox.admin.reset()
        assert sandbox.admin.stats() == {"total": 0, "by_route": [], "token_requests": 0}
        assert sandbox.admin.log() == []
        assert sandbox.admin.faults() == []
        config = sandbox.admin.config()
        assert config["page_max"] == 100 and config["latency_ms"] == 0
        with sandbox.client() as client:
            assert client.get("/products/A1").status_code == 404

    def test_reset_invalidates_tokens(
        self, sandbox: ServedSandboxHandle, api: httpx.Client
    ) -> None:
        """Tokens issued before a reset are no longer accepted."""
        sandbox.admin.reset()
        expect_error(api.get("/products/A1"), 401)

    def test_config_never_shows_the_credentials(self, sandbox: ServedSandboxHandle) -> None:
        """GET config lists settings but not the key or secret."""
        config = sandbox.admin.config()
        assert "key" not in config and "secret" not in config
        assert sandbox.secret not in str(config)

    @pytest.mark.parametrize(
        ("settings", "parameter"),
        [
            ({"fault_rate": 1.5}, "fault_rate"),
            ({"fault_rate": "high"}, "fault_rate"),
            ({"latency_ms": -1}, "latency_ms"),
            ({"page_max": 0}, "page_max"),
            ({"page_max": True}, "page_max"),
            ({"fault_kinds": ["418"]}, "fault_kinds"),
            ({"bulk_item_failures": "some"}, "bulk_item_failures"),
            ({"key": "stolen"}, "key"),
            ({"colour": "red"}, "colour"),
        ],
    )
    def test_bad_settings_are_400_and_change_nothing(
        self,
        sandbox: ServedSandboxHandle,
        http: httpx.Client,
        settings: dict[str, Any],
        parameter: str,
    ) -> None:
        """An invalid or unknown setting is named in a 400 and no setting changes."""
        response = http.post("/__sandbox/config", json={"page_max": 7, **settings})
        expect_error(response, 400, parameter)
        assert sandbox.admin.config()["page_max"] == 100

    def test_admin_routes_reject_other_methods(self, http: httpx.Client) -> None:
        """Admin routes answer 405 for methods they do not support."""
        expect_error(http.delete("/__sandbox/stats"), 405)
        expect_error(http.get("/__sandbox/reset"), 405)


class TestFixtures:
    def test_products_keep_their_own_dates_status_and_fields(
        self, sandbox: ServedSandboxHandle, api: httpx.Client
    ) -> None:
        """Fixture products bypass validation and keep pbCreateDate, status and active."""
        loaded = sandbox.admin.load(
            products=[
                {
                    "clientId": "C1",
                    "sku": "RAW",
                    "pbCreateDate": "2021-05-01T10:00:00Z",
                    "status": "UNPUBLISHED",
                    "active": False,
                    "odd": 1,
                }
            ]
        )["products"][0]
        assert loaded["pbCreateDate"] == "2021-05-01T10:00:00.000+0000"
        fetched = api.get("/products/RAW", params={"clientId": "C1"}).json()
        assert fetched == loaded
        assert (
            fetched["status"] == "UNPUBLISHED"
            and fetched["active"] is False
            and fetched["odd"] == 1
        )
        assert "productType" not in fetched  # raw: no validation, no invented fields

    def test_boms_get_ids_unless_given_and_can_share_a_kit(
        self, sandbox: ServedSandboxHandle, api: httpx.Client
    ) -> None:
        """Fixture BOMs keep a given id, get one otherwise, and two may share one kit."""
        loaded = sandbox.admin.load(
            products=[product("K", productType="KIT"), product("A")],
            boms=[bom("K", ("A", 1), billOfMaterialId="FIXED"), bom("K", ("A", 2), active=False)],
        )
        given, assigned = (b["billOfMaterialId"] for b in loaded["boms"])
        assert given == "FIXED" and assigned and assigned != "FIXED"
        body = {"clientId": "C1", "searchFields": [{"name": "includeInactive", "values": ["true"]}]}
        found = api.post("/bill-of-materials/search", json=body).json()
        assert [b["billOfMaterialId"] for b in found["content"]] == ["FIXED", assigned]

    def test_fixture_with_an_existing_id_replaces_it(self, sandbox: ServedSandboxHandle) -> None:
        """Loading a BOM id again replaces that BOM instead of duplicating it."""
        sandbox.admin.load(boms=[bom("K", ("A", 1), billOfMaterialId="B1")])
        again = sandbox.admin.load(boms=[bom("K", ("A", 5), billOfMaterialId="B1")])
        assert again["boms"][0]["billOfMaterialDetails"] == [{"sku": "A", "quantity": 5}]

    @pytest.mark.parametrize(
        ("body", "parameter"),
        [
            ({"products": [{"sku": "A"}]}, "products[0].clientId"),
            ({"products": [{"clientId": "C1"}]}, "products[0].sku"),
            ({"products": ["A"]}, "products[0]"),
            (
                {"products": [{"clientId": "C1", "sku": "A", "pbCreateDate": "never"}]},
                "products[0].pbCreateDate",
            ),
            ({"boms": [{"clientId": "C1"}]}, "boms[0].sku"),
            ({"inventory": [{"node": "N"}]}, "inventory[0].sku"),
            ({"inventory": {"sku": "A"}}, "inventory"),
            ({"orders": []}, "orders"),
        ],
    )
    def test_unusable_fixtures_are_400_and_load_nothing(
        self, sandbox: ServedSandboxHandle, http: httpx.Client, body: dict[str, Any], parameter: str
    ) -> None:
        """Fixtures missing their identity are named in a 400 and nothing is stored."""
        body = {"products": [product("OK")], **body} if "products" not in body else body
        expect_error(http.post("/__sandbox/fixtures", json=body), 400, parameter)
        with sandbox.client() as client:
            assert client.get("/products/OK").status_code == 404


class TestBackdate:
    def test_backdate_moves_pb_create_date(
        self, sandbox: ServedSandboxHandle, api: httpx.Client
    ) -> None:
        """backdate sets pbCreateDate, which GET then reports."""
        api.post("/products", json=product("A1"))
        moved = sandbox.admin.backdate("C1", "A1", "2020-02-03T04:05:06Z")
        assert moved["pbCreateDate"] == "2020-02-03T04:05:06.000+0000"
        assert api.get("/products/A1").json()["pbCreateDate"] == moved["pbCreateDate"]

    def test_backdate_of_an_unknown_product_is_404(self, http: httpx.Client) -> None:
        """Backdating a missing product gets 404."""
        body = {"clientId": "C1", "sku": "NOPE", "pbCreateDate": "2020-01-01"}
        expect_error(http.post("/__sandbox/backdate", json=body), 404)

    def test_backdate_needs_a_valid_date(
        self, sandbox: ServedSandboxHandle, http: httpx.Client
    ) -> None:
        """A pbCreateDate that is not ISO 8601 gets 400 naming it."""
        sandbox.admin.load(products=[product("A1")])
        body = {"clientId": "C1", "sku": "A1", "pbCreateDate": "last year"}
        expect_error(http.post("/__sandbox/backdate", json=body), 400, "pbCreateDate")


class TestScriptedFaults:
    @pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
    def test_http_faults_answer_once_with_the_unified_error(
        self, sandbox: ServedSandboxHandle, api: httpx.Client, status: int
    ) -> None:
        """A scripted fault answers the next matching request, then is used up."""
        sandbox.admin.fault(str(status), method="GET", path_prefix=f"{API}/products")
        expect_error(api.get("/products/A1"), status)
        assert api.get("/products/A1").status_code == 404
        assert sandbox.admin.faults() == []

    def test_429_carries_retry_after(self, sandbox: ServedSandboxHandle, api: httpx.Client) -> None:
        """A 429 fault sends Retry-After (its own value, else retry_after_seconds)."""
        sandbox.admin.fault("429", retry_after=2.5)
        sandbox.admin.fault("429")
        assert api.get("/products/A1").headers["retry-after"] == "2.5"
        assert api.get("/products/A1").headers["retry-after"] == "1"

    def test_drop_closes_the_connection_without_an_answer(
        self, sandbox: ServedSandboxHandle, api: httpx.Client
    ) -> None:
        """A drop fault makes the client see a disconnect; the next request works."""
        sandbox.admin.fault("drop", path_prefix=f"{API}/products/")
        with pytest.raises(httpx.RemoteProtocolError):
            api.get("/products/A1")
        assert api.get("/products/A1").status_code == 404

    def test_faults_match_method_and_prefix_and_are_used_in_order(
        self, sandbox: ServedSandboxHandle, api: httpx.Client
    ) -> None:
        """Only matching requests consume faults; several are consumed first to last."""
        sandbox.admin.fault("503", method="POST", path_prefix=f"{API}/products/search", times=2)
        sandbox.admin.fault("500", method="POST", path_prefix=f"{API}/products/search")
        assert api.get("/products/A1").status_code == 404  # not a match
        statuses = [
            api.post("/products/search", json={"clientId": "C1"}).status_code for _ in range(4)
        ]
        assert statuses == [503, 503, 500, 200]

    def test_before_commit_faults_do_not_write(
        self, sandbox: ServedSandboxHandle, api: httpx.Client
    ) -> None:
        """A plain fault answers instead of the handler, so nothing is stored."""
        sandbox.admin.fault("500", method="POST", path_prefix=f"{API}/products")
        expect_error(api.post("/products", json=product("A1")), 500)
        assert api.get("/products/A1").status_code == 404

    @pytest.mark.parametrize("action", ["503", "drop"])
    def test_after_commit_faults_write_then_fail(
        self, sandbox: ServedSandboxHandle, api: httpx.Client, action: str
    ) -> None:
        """after_commit runs the handler first: the write happened, yet the client saw a fault."""
        sandbox.admin.fault(action, method="POST", path_prefix=f"{API}/products", after_commit=True)
        try:
            response = api.post("/products", json=product("A1"))
            assert response.status_code == int(action)
        except httpx.RemoteProtocolError:
            assert action == "drop"
        assert api.get("/products/A1").status_code == 200

    def test_faults_can_hit_the_token_endpoint(
        self, sandbox: ServedSandboxHandle, http: httpx.Client
    ) -> None:
        """A fault scripted for /oauth/token answers a token request."""
        sandbox.admin.fault("503", path_prefix="/oauth/token")
        response = http.post(
            "/oauth/token",
            auth=(sandbox.key, sandbox.secret),
            data={"grant_type": "client_credentials"},
        )
        expect_error(response, 503)

    def test_faults_never_hit_admin_routes(self, sandbox: ServedSandboxHandle) -> None:
        """A catch-all fault leaves the test controls working."""
        sandbox.admin.fault("500")
        assert sandbox.admin.stats()["total"] == 0
        assert len(sandbox.admin.faults()) == 1

    def test_faults_are_logged_with_their_status(
        self, sandbox: ServedSandboxHandle, api: httpx.Client
    ) -> None:
        """Injected answers are counted; a drop is logged with status 599."""
        sandbox.admin.fault("429")
        sandbox.admin.fault("drop")
        api.get("/products/A1")
        with pytest.raises(httpx.RemoteProtocolError):
            api.get("/products/A1")
        assert sandbox.admin.count("GET", PRODUCT_ROUTE, 429) == 1
        assert sandbox.admin.count("GET", PRODUCT_ROUTE, 599) == 1

    @pytest.mark.parametrize(
        ("body", "parameter"),
        [
            ({"action": "418"}, "action"),
            ({"action": "500", "times": 0}, "times"),
            ({"action": "500", "retry_after": "soon"}, "retry_after"),
            ({"action": "500", "after_commit": "yes"}, "after_commit"),
            ({"action": "500", "method": 5}, "method"),
        ],
    )
    def test_bad_fault_scripts_are_400(
        self, http: httpx.Client, body: dict[str, Any], parameter: str
    ) -> None:
        """Fault scripts are validated and the bad field is named."""
        expect_error(http.post("/__sandbox/faults", json=body), 400, parameter)

    def test_faults_can_be_cleared(self, sandbox: ServedSandboxHandle, http: httpx.Client) -> None:
        """DELETE /__sandbox/faults drops every pending fault."""
        sandbox.admin.fault("500", times=3)
        http.delete("/__sandbox/faults")
        assert sandbox.admin.faults() == []


class TestRandomFaultsAndLatency:
    def statuses(self, api: httpx.Client, count: int) -> list[int]:
        result = []
        for _ in range(count):
            try:
                result.append(api.get("/products/A1").status_code)
            except httpx.RemoteProtocolError:
                result.append(599)
        return result

    def test_fault_rate_one_faults_every_request_with_the_configured_kinds(
        self, sandbox: ServedSandboxHandle, api: httpx.Client
    ) -> None:
        """fault_rate 1 answers every API request with one of fault_kinds."""
        sandbox.admin.configure(fault_rate=1.0, fault_kinds=["500", "503"], seed=1)
        statuses = self.statuses(api, 20)
        assert set(statuses) == {500, 503}

    def test_the_seed_makes_faults_reproducible(
        self, sandbox: ServedSandboxHandle, api: httpx.Client
    ) -> None:
        """The same seed gives the same fault sequence."""
        sandbox.admin.configure(fault_rate=0.5, fault_kinds=["429", "500", "503", "drop"], seed=42)
        first = self.statuses(api, 30)
        sandbox.admin.configure(seed=42)
        assert self.statuses(api, 30) == first
        assert len(set(first)) > 2  # a real mix, not one kind

    def test_faults_after_commit_keep_the_write(
        self, sandbox: ServedSandboxHandle, api: httpx.Client
    ) -> None:
        """faults_after_commit: a write answered with a fault has landed all the same (the
        lost answer a client's lost-write recovery must handle); a read stays unanswered."""
        sandbox.admin.configure(
            fault_rate=1.0, fault_kinds=["503"], faults_after_commit=True, seed=1
        )
        answer = api.post("/products", json=product("LATE"))
        assert answer.status_code == 503
        sandbox.admin.configure(fault_rate=0.0)
        assert api.get("/products/LATE", params={"clientId": "C1"}).status_code == 200

    def test_random_faults_spare_the_token_endpoint(
        self, sandbox: ServedSandboxHandle, http: httpx.Client
    ) -> None:
        """Random faults apply to the Fulfillment routes only, so a token can be fetched."""
        sandbox.admin.configure(fault_rate=1.0)
        assert sandbox.token()

    def test_latency_delays_api_answers(
        self, sandbox: ServedSandboxHandle, api: httpx.Client
    ) -> None:
        """latency_ms holds each API answer for at least that long."""
        sandbox.admin.configure(latency_ms=150)
        started = time.perf_counter()
        api.get("/products/A1")
        assert time.perf_counter() - started >= 0.15

    def test_latency_does_not_block_other_requests(self, sandbox: ServedSandboxHandle) -> None:
        """Eight delayed requests at once take far less than eight delays (asyncio.sleep)."""
        sandbox.admin.configure(latency_ms=500)
        headers = {"Authorization": f"Bearer {sandbox.token()}", "X-PB-TransactionId": "t"}
        clients = [
            httpx.Client(base_url=sandbox.api, headers=headers, verify=SHARED_SSL_CONTEXT)
            for _ in range(8)
        ]
        try:
            started = time.perf_counter()
            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                statuses = list(pool.map(lambda c: c.get("/products/A1").status_code, clients))
            elapsed = time.perf_counter() - started
        finally:
            for client in clients:
                client.close()
        assert statuses == [404] * 8
        assert elapsed < 8 * 0.5 * 0.75  # one after another would take 4 s
