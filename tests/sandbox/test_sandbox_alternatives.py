"""The emulator's alternatives to each probed assumption (one switch each, through the
admin config route and `sandbox serve --set`), and the rest of the documented surface:
BOM search with a trailing slash, 501 for documented routes it does not emulate."""

from __future__ import annotations

from typing import Any

import anyio
import httpx2 as httpx
import pytest

from reconcile.sandbox import SandboxConfig, Store, create_app
from reconcile.sandbox.config import check_setting
from reconcile.sandbox.server import ServeError, setting_option
from tests.support.sandbox import API, ServedSandboxHandle, bom, expect_error, product, search_page

WINDOW = {"name": "pbCreateDate", "values": ["2000-01-01", "2100-01-01"]}
INACTIVE = {"name": "includeInactive", "values": ["true"]}


def load(sandbox: ServedSandboxHandle, count: int = 5) -> None:
    items = [product(f"P{i}") for i in range(count)] + [product("K", productType="KIT")]
    boms = [bom("K", ("P0", 1)), bom("K", ("P1", 1), active=False)]
    sandbox.admin.load(products=items, boms=boms)


class TestEnvelope:
    def test_results_field_renamed(self, sandbox: ServedSandboxHandle, api: httpx.Client) -> None:
        """results_field: the list moves to another name; `content` is gone."""
        load(sandbox)
        sandbox.admin.configure(results_field="items")
        page = search_page(api, "/products/search", WINDOW)
        assert "content" not in page and len(page["items"]) == 6

    def test_no_total_elements(self, sandbox: ServedSandboxHandle, api: httpx.Client) -> None:
        load(sandbox)
        sandbox.admin.configure(total_elements=False)
        page = search_page(api, "/bill-of-materials/search")
        assert "totalElements" not in page and page["totalPages"] == 1

    def test_zero_based_pages(self, sandbox: ServedSandboxHandle, api: httpx.Client) -> None:
        """one_based_pages false: page=0 is the first, page=1 the second."""
        load(sandbox)
        sandbox.admin.configure(one_based_pages=False)
        zero = search_page(api, "/products/search", WINDOW, page=0, size=2)
        one = search_page(api, "/products/search", WINDOW, page=1, size=2)
        assert zero["first"] is True and one["first"] is False
        assert [p["sku"] for p in zero["content"]] == ["K", "P0"]
        assert [p["sku"] for p in one["content"]] == ["P1", "P2"]


class TestSearchMeaning:
    def test_date_filters_ignored(self, sandbox: ServedSandboxHandle, api: httpx.Client) -> None:
        """date_filters false: a window is accepted and ignored; the six-month default
        still hides an old product."""
        load(sandbox)
        sandbox.admin.backdate("C1", "P0", "2019-01-01T00:00:00Z")
        old_only = {"name": "pbCreateDate", "values": ["2000-01-01", "2019-06-01"]}
        assert len(search_page(api, "/products/search", old_only)["content"]) == 1
        sandbox.admin.configure(date_filters=False)
        skus = [p["sku"] for p in search_page(api, "/products/search", old_only)["content"]]
        assert "P0" not in skus and len(skus) == 5

    @pytest.mark.parametrize(
        ("mode", "active"), [("both", {True, False}), ("only", {False}), ("ignored", {True})]
    )
    def test_include_inactive_meaning(
        self, sandbox: ServedSandboxHandle, api: httpx.Client, mode: str, active: set[bool]
    ) -> None:
        load(sandbox)
        sandbox.admin.configure(include_inactive=mode)
        page = search_page(api, "/bill-of-materials/search", INACTIVE)
        assert {b.get("active", True) for b in page["content"]} == active

    def test_unstable_order(self, sandbox: ServedSandboxHandle, api: httpx.Client) -> None:
        """stable_order false: identical searches come back in differing orders."""
        load(sandbox, 30)
        sandbox.admin.configure(stable_order=False)
        orders = {
            tuple(
                p["sku"] for p in search_page(api, "/products/search", WINDOW, size=50)["content"]
            )
            for _ in range(5)
        }
        assert len(orders) > 1

    def test_extra_fields(self, sandbox: ServedSandboxHandle, api: httpx.Client) -> None:
        load(sandbox)
        sandbox.admin.configure(extra_fields=True)
        assert "catalogRevision" in api.get("/products/P0", params={"clientId": "C1"}).json()
        assert "lastIndexedBy" in search_page(api, "/bill-of-materials/search")["content"][0]

    def test_404_without_error_object(
        self, sandbox: ServedSandboxHandle, api: httpx.Client
    ) -> None:
        sandbox.admin.configure(not_found_error_object=False)
        response = api.get("/products/NOPE", params={"clientId": "C1"})
        assert response.status_code == 404 and response.content == b""

    def test_fulfillment_not_enabled(self, sandbox: ServedSandboxHandle, api: httpx.Client) -> None:
        """403 1000033 on Fulfillment routes; merchants still answers."""
        sandbox.admin.configure(fulfillment_enabled=False)
        error = expect_error(api.post("/products/search", json={"clientId": "C1"}), 403)
        assert error["errorCode"] == "1000033"
        merchants = api.get(
            f"{sandbox.url}/shippingservices/v1/developers/sandbox-developer/merchants"
        )
        assert merchants.status_code == 200


class TestIndexLag:
    def test_hidden_for_n_searches(self, sandbox: ServedSandboxHandle, api: httpx.Client) -> None:
        """index_lag_searches 2: a new product misses two searches, GET finds it at once."""
        sandbox.admin.configure(index_lag_searches=2)
        assert api.post("/products", json=product("NEW")).status_code == 201
        assert api.get("/products/NEW", params={"clientId": "C1"}).status_code == 200
        seen = [len(search_page(api, "/products/search", WINDOW)["content"]) for _ in range(3)]
        assert seen == [0, 0, 1]

    def test_hidden_for_n_seconds_on_the_emulator_clock(self) -> None:
        """index_lag_seconds 30: a new BOM reaches search once the clock moved 30 s."""
        now = [1_700_000_000.0]
        config = SandboxConfig(key="k", secret="s", index_lag_seconds=30)
        app = create_app(Store(), config, clock=lambda: now[0])

        async def main() -> list[int]:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=f"http://x{API}") as c:
                token = await c.post(
                    "http://x/oauth/token",
                    auth=("k", "s"),
                    data={"grant_type": "client_credentials"},
                )
                c.headers.update(
                    {
                        "Authorization": f"Bearer {token.json()['access_token']}",
                        "X-PB-TransactionId": "t1",
                    }
                )
                await c.post("/products", json=product("A"))
                await c.post("/products", json=product("K", productType="KIT"))
                await c.post("/bill-of-materials", json=bom("K", ("A", 1)))
                counts = []
                for step in (0, 29, 2):
                    now[0] += step
                    page = await c.post("/bill-of-materials/search", json={"clientId": "C1"})
                    counts.append(len(page.json()["content"]))
                return counts

        assert anyio.run(main) == [0, 0, 1]


class TestSurface:
    def test_bom_search_with_trailing_slash(
        self, sandbox: ServedSandboxHandle, api: httpx.Client
    ) -> None:
        """The overview page's spelling `…/bill-of-materials/search/` answers the same."""
        load(sandbox)
        plain = search_page(api, "/bill-of-materials/search")
        slashed = search_page(api, "/bill-of-materials/search/")
        assert slashed == plain

    @pytest.mark.parametrize(
        ("method", "path"),
        [
            ("POST", "/receiving/asn"),
            ("GET", "/receiving/asn/A1"),
            ("POST", "/orders/bulk"),
            ("POST", "/shipments/search"),
            ("GET", "/work-orders/7"),
            ("POST", "/returns"),
        ],
    )
    def test_documented_but_not_emulated_is_501(
        self, api: httpx.Client, method: str, path: str
    ) -> None:
        error = expect_error(api.request(method, path, json={}), 501)
        assert error["errorCode"] == "route.not_emulated"
        assert "not emulate" in error["errorDescription"]


class TestSwitches:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("results_field=items", ("results_field", "items")),
            ("total-elements=false", ("total_elements", False)),
            ("index_lag_searches=3", ("index_lag_searches", 3)),
            ("include_inactive=only", ("include_inactive", "only")),
        ],
    )
    def test_serve_set_option(self, text: str, expected: tuple[str, Any]) -> None:
        assert setting_option(text) == expected

    @pytest.mark.parametrize(
        "text", ["results_field", "include_inactive=sometimes", "nope=1", "stable_order=3"]
    )
    def test_serve_set_refuses(self, text: str) -> None:
        with pytest.raises(ServeError, match="--set"):
            setting_option(text)

    def test_admin_route_validates(self, sandbox: ServedSandboxHandle) -> None:
        assert check_setting("index_lag_seconds", -1) == "must be ≥ 0"
        assert sandbox.admin.configure(stable_order=False)["stable_order"] is False
