"""Contract §6.5, §9: Find Products — envelope, paging, filters, sort, six-month window."""

from __future__ import annotations

from typing import Any

import httpx2 as httpx
import pytest

from tests.support.sandbox import ServedSandboxHandle, expect_error, product, search_page

WIDE = {"name": "pbCreateDate", "values": ["2000-01-01"]}


def search(api: httpx.Client, *fields: dict[str, Any], **params: Any) -> dict[str, Any]:
    return search_page(api, "/products/search", *fields, **params)


def skus(result: dict[str, Any]) -> list[str]:
    return [p["sku"] for p in result["content"]]


def load(sandbox: ServedSandboxHandle, count: int, **fields: Any) -> None:
    sandbox.admin.load(products=[product(f"P{i:03d}", **fields) for i in range(count)])


class TestEnvelope:
    def test_envelope_has_the_documented_fields(
        self, sandbox: ServedSandboxHandle, api: httpx.Client
    ) -> None:
        """The answer is {content, totalPages, totalElements, first, last, size, page}."""
        load(sandbox, 3)
        result = search(api)
        assert result == {
            "content": result["content"],
            "totalPages": 1,
            "totalElements": 3,
            "first": True,
            "last": True,
            "size": 20,
            "page": 1,
        }
        assert skus(result) == ["P000", "P001", "P002"]

    def test_pages_are_one_based_and_partition_the_results(
        self, sandbox: ServedSandboxHandle, api: httpx.Client
    ) -> None:
        """page=1..N with size=k walk every match once; first/last mark the ends."""
        load(sandbox, 7)
        pages = [search(api, page=n, size=3) for n in (1, 2, 3)]
        assert [skus(p) for p in pages] == [
            ["P000", "P001", "P002"],
            ["P003", "P004", "P005"],
            ["P006"],
        ]
        assert [(p["first"], p["last"], p["page"]) for p in pages] == [
            (True, False, 1),
            (False, False, 2),
            (False, True, 3),
        ]
        assert {p["totalPages"] for p in pages} == {3}

    def test_a_page_beyond_the_last_is_empty_and_last(
        self, sandbox: ServedSandboxHandle, api: httpx.Client
    ) -> None:
        """Asking past the end gives empty content with last true."""
        load(sandbox, 2)
        result = search(api, page=5, size=1)
        assert result["content"] == [] and result["last"] is True and result["page"] == 5

    def test_no_match_is_an_empty_single_page(self, api: httpx.Client) -> None:
        """An empty result has totalElements 0 and is both first and last."""
        result = search(api)
        assert result["totalElements"] == 0 and result["first"] and result["last"]

    def test_size_is_capped_at_page_max(
        self, sandbox: ServedSandboxHandle, api: httpx.Client
    ) -> None:
        """A size above page_max is served at page_max, and size says so (§13.10)."""
        sandbox.admin.configure(page_max=5)
        load(sandbox, 12)
        result = search(api, size=50)
        assert result["size"] == 5 and len(result["content"]) == 5 and result["totalPages"] == 3

    def test_default_page_max_is_100(self, sandbox: ServedSandboxHandle, api: httpx.Client) -> None:
        """Without configuration the cap is 100."""
        assert search(api, size=1000)["size"] == 100

    @pytest.mark.parametrize(("name", "value"), [("page", "0"), ("page", "x"), ("size", "-1")])
    def test_bad_paging_parameters_are_400(self, api: httpx.Client, name: str, value: str) -> None:
        """page and size must be integers ≥ 1 (400 naming the parameter)."""
        response = api.post("/products/search", json={"clientId": "C1"}, params={name: value})
        expect_error(response, 400, name)


class TestFilters:
    def test_only_the_clients_products_are_found(
        self, sandbox: ServedSandboxHandle, api: httpx.Client
    ) -> None:
        """Search is scoped to the body's clientId."""
        sandbox.admin.load(products=[product("A", "C1"), product("B", "C2")])
        assert skus(search(api)) == ["A"]
        assert skus(search(api, client_id="C2")) == ["B"]

    def test_values_are_or_ed_and_entries_and_ed(
        self, sandbox: ServedSandboxHandle, api: httpx.Client
    ) -> None:
        """sku in [A, B, C] AND productType KIT keeps only the kits among them."""
        sandbox.admin.load(
            products=[
                product("A"),
                product("B", productType="KIT"),
                product("C", productType="KIT"),
            ]
        )
        by_sku = {"name": "sku", "values": ["A", "B", "C"]}
        assert skus(search(api, by_sku)) == ["A", "B", "C"]
        kits = {"name": "productType", "values": ["KIT"]}
        assert skus(search(api, by_sku, kits)) == ["B", "C"]
        assert skus(search(api, {"name": "sku", "values": ["A"]}, kits)) == []

    def test_active_filter(self, sandbox: ServedSandboxHandle, api: httpx.Client) -> None:
        """active accepts true/false as booleans or strings."""
        sandbox.admin.load(products=[product("ON"), product("OFF", active=False)])
        assert skus(search(api, {"name": "active", "values": [False]})) == ["OFF"]
        assert skus(search(api, {"name": "active", "values": ["true"]})) == ["ON"]
        assert skus(search(api)) == ["OFF", "ON"]

    def test_fulfillment_region_filter(
        self, sandbox: ServedSandboxHandle, api: httpx.Client
    ) -> None:
        """fulfillmentRegion filters on the stored region."""
        sandbox.admin.load(
            products=[
                product("A", fulfillmentRegion="PB_ONLY"),
                product("B", fulfillmentRegion="ALL"),
            ]
        )
        assert skus(search(api, {"name": "fulfillmentRegion", "values": ["ALL"]})) == ["B"]

    def test_unknown_search_field_is_400(self, api: httpx.Client) -> None:
        """A searchFields name the emulator does not know gets 400 naming it."""
        response = api.post(
            "/products/search",
            json={"clientId": "C1", "searchFields": [{"name": "colour", "values": ["red"]}]},
        )
        expect_error(response, 400, "searchFields[0].name")

    @pytest.mark.parametrize(
        ("body", "parameter"),
        [
            ({}, "clientId"),
            ({"clientId": ""}, "clientId"),
            ({"clientId": "C1", "searchFields": "sku"}, "searchFields"),
            ({"clientId": "C1", "searchFields": [{"values": ["A"]}]}, "searchFields[0].name"),
            ({"clientId": "C1", "searchFields": [{"name": "sku"}]}, "searchFields[0].values"),
            (
                {"clientId": "C1", "searchFields": [{"name": "sku", "values": "A"}]},
                "searchFields[0].values",
            ),
            ({"clientId": "C1", "searchFields": [7]}, "searchFields[0]"),
            (
                {"clientId": "C1", "searchFields": [{"name": "active", "values": []}]},
                "searchFields[0].values",
            ),
            (
                {"clientId": "C1", "searchFields": [{"name": "active", "values": ["yes"]}]},
                "searchFields[0].values[0]",
            ),
            ({"clientId": "C1", "sort": "createDate-asc"}, "sort"),
            ({"clientId": "C1", "sort": ["sku-up"]}, "sort[0]"),
            ({"clientId": "C1", "sort": ["createDate-sideways"]}, "sort[0]"),
        ],
    )
    def test_malformed_search_bodies_are_400(
        self, api: httpx.Client, body: dict[str, Any], parameter: str
    ) -> None:
        """Each malformed part of a search body is named in the 400."""
        expect_error(api.post("/products/search", json=body), 400, parameter)

    def test_invalid_json_search_body_is_400(self, api: httpx.Client) -> None:
        """A search body that is not JSON gets 400 (1000050)."""
        response = api.post(
            "/products/search", content=b"{", headers={"Content-Type": "application/json"}
        )
        assert expect_error(response, 400)["errorCode"] == "1000050"


class TestDateFiltersAndWindow:
    def test_old_products_are_hidden_without_a_date_filter(
        self, sandbox: ServedSandboxHandle, api: httpx.Client
    ) -> None:
        """A product created over six months ago is not found by a plain search (§6.5)."""
        sandbox.admin.load(products=[product("NEW"), product("OLD")])
        sandbox.admin.backdate("C1", "OLD", "2020-01-01T00:00:00Z")
        assert skus(search(api)) == ["NEW"]
        assert skus(search(api, {"name": "sku", "values": ["OLD"]})) == []

    @pytest.mark.parametrize("field", ["createDate", "updateDate", "pbCreateDate", "pbUpdateDate"])
    def test_any_date_filter_lifts_the_window(
        self, sandbox: ServedSandboxHandle, api: httpx.Client, field: str
    ) -> None:
        """With any date filter the six-month window no longer applies."""
        dates = {"createDate": "2019-06-01T00:00:00.000+0000", "updateDate": "2019-06-01T00:00:00Z"}
        sandbox.admin.load(
            products=[
                product(
                    "OLD",
                    pbCreateDate="2019-06-01T00:00:00Z",
                    pbUpdateDate="2019-06-01T00:00:00Z",
                    **dates,
                )
            ]
        )
        assert skus(search(api)) == []
        assert skus(search(api, {"name": field, "values": ["2000-01-01"]})) == ["OLD"]

    def test_the_window_is_a_switch(self, sandbox: ServedSandboxHandle, api: httpx.Client) -> None:
        """six_month_window false shows old products in plain searches."""
        sandbox.admin.load(products=[product("OLD", pbCreateDate="2020-01-01T00:00:00Z")])
        sandbox.admin.configure(six_month_window=False)
        assert skus(search(api)) == ["OLD"]

    def test_the_strict_window_ignores_date_filters(
        self, sandbox: ServedSandboxHandle, api: httpx.Client
    ) -> None:
        """six_month_window_always hides old products even from dated searches; GET finds them."""
        sandbox.admin.load(products=[product("OLD", pbCreateDate="2020-01-01T00:00:00Z")])
        sandbox.admin.configure(six_month_window_always=True)
        assert skus(search(api, {"name": "pbCreateDate", "values": ["2000-01-01"]})) == []
        assert api.get("/products/OLD", params={"clientId": "C1"}).status_code == 200

    def test_the_window_edge_is_six_calendar_months(
        self, sandbox: ServedSandboxHandle, api: httpx.Client
    ) -> None:
        """Five months old is visible, seven months old is hidden."""
        from datetime import UTC, datetime, timedelta

        now = datetime.now(UTC)
        five = (now - timedelta(days=152)).isoformat()
        seven = (now - timedelta(days=213)).isoformat()
        sandbox.admin.load(
            products=[product("FIVE", pbCreateDate=five), product("SEVEN", pbCreateDate=seven)]
        )
        assert skus(search(api)) == ["FIVE"]

    def test_from_to_range_is_inclusive(
        self, sandbox: ServedSandboxHandle, api: httpx.Client
    ) -> None:
        """values [from, to] keep both ends; a bare 'to' date covers that whole day."""
        sandbox.admin.load(
            products=[
                product("D1", createDate="2024-03-01T00:00:00.000+0000"),
                product("D2", createDate="2024-03-15T23:59:59.999+0000"),
                product("D3", createDate="2024-03-16T00:00:00.000+0000"),
            ]
        )
        between = {"name": "createDate", "values": ["2024-03-01T00:00:00Z", "2024-03-15"]}
        assert skus(search(api, between)) == ["D1", "D2"]
        since = {"name": "createDate", "values": ["2024-03-15T12:00:00.000+0000"]}
        assert skus(search(api, since)) == ["D2", "D3"]

    def test_any_iso_8601_form_is_accepted(
        self, sandbox: ServedSandboxHandle, api: httpx.Client
    ) -> None:
        """Offsets with and without a colon, Z, and fractions all parse to the same instant."""
        sandbox.admin.load(products=[product("D", createDate="2024-03-01T12:00:00.000+0100")])
        for value in [
            "2024-03-01T11:00:00Z",
            "2024-03-01T12:00:00+01:00",
            "2024-03-01T11:00:00.000+0000",
        ]:
            assert skus(search(api, {"name": "createDate", "values": [value, value]})) == ["D"], (
                value
            )

    @pytest.mark.parametrize(
        "values", [[], ["2024-01-01", "2024-02-01", "2024-03-01"], ["soon"], ["2024-01-01", 5]]
    )
    def test_bad_date_values_are_400(self, api: httpx.Client, values: list[Any]) -> None:
        """Date values must be [from] or [from, to] in ISO 8601."""
        body = {"clientId": "C1", "searchFields": [{"name": "createDate", "values": values}]}
        error = expect_error(api.post("/products/search", json=body), 400)
        assert any(p.startswith("searchFields[0].values") for p in error["parameters"])


class TestSort:
    def test_default_order_is_by_sku(self, sandbox: ServedSandboxHandle, api: httpx.Client) -> None:
        """Without sort, results come in sku order (stable paging)."""
        sandbox.admin.load(products=[product("B"), product("C"), product("A")])
        assert skus(search(api)) == ["A", "B", "C"]

    def test_sort_by_create_date_both_ways(
        self, sandbox: ServedSandboxHandle, api: httpx.Client
    ) -> None:
        """createDate-asc / -desc order by the client's createDate."""
        sandbox.admin.load(
            products=[
                product("A", createDate="2024-03-02T00:00:00.000+0000"),
                product("B", createDate="2024-03-01T00:00:00.000+0000"),
                product("C", createDate="2024-03-03T00:00:00.000+0000"),
            ]
        )
        assert skus(search(api, sort=["createDate-asc"])) == ["B", "A", "C"]
        assert skus(search(api, sort=["createDate-desc"])) == ["C", "A", "B"]

    def test_sort_by_pb_update_date(self, sandbox: ServedSandboxHandle, api: httpx.Client) -> None:
        """pbUpdateDate-desc puts the most recently written product first."""
        sandbox.admin.load(
            products=[
                product("A", pbUpdateDate="2026-01-02T00:00:00Z"),
                product("B", pbUpdateDate="2026-01-03T00:00:00Z"),
            ]
        )
        sandbox.admin.configure(six_month_window=False)
        assert skus(search(api, sort=["pbUpdateDate-desc"])) == ["B", "A"]
