"""Contract §5, §6: product create, PUT, GET and bulk, valid and invalid, over HTTP."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import httpx2 as httpx
import pytest

from tests.support.sandbox import ServedSandboxHandle, expect_error, product

PRODUCT_DATE = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{4}$"


class TestCreateProduct:
    def test_create_answers_201_with_the_stored_object(self, api: httpx.Client) -> None:
        """POST /products echoes the object plus PB dates, status, active and region defaults."""
        response = api.post("/products", json=product("A1"))
        assert response.status_code == 201
        body = response.json()
        assert body["sku"] == "A1" and body["details"] == {"description": "product A1"}
        assert body["status"] == "PUBLISHED"
        assert body["active"] is True
        assert body["fulfillmentRegion"] == "PB_ONLY"
        assert body["pbCreateDate"] == body["pbUpdateDate"]

    def test_pb_dates_use_the_products_pattern(self, api: httpx.Client) -> None:
        """pbCreateDate/pbUpdateDate are YYYY-MM-DDThh:mm:ss.sss±hhmm (§5)."""
        body = api.post("/products", json=product("A1")).json()
        assert re.match(PRODUCT_DATE, body["pbCreateDate"]), body["pbCreateDate"]
        assert re.match(PRODUCT_DATE, body["pbUpdateDate"]), body["pbUpdateDate"]

    def test_unknown_fields_are_stored_and_echoed_verbatim(self, api: httpx.Client) -> None:
        """Fields the contract does not document round-trip unchanged (§13.6)."""
        extra = {
            "details": {"description": "d", "weight": {"value": 1.5, "unit": "KG"}, "x": [1]},
            "options": [{"name": "color", "value": "red", "nested": {"a": None}}],
            "futureField": {"deep": [True, 2, "three"]},
        }
        api.post("/products", json=product("A1", **extra))
        body = api.get("/products/A1", params={"clientId": "C1"}).json()
        for name, value in extra.items():
            assert body[name] == value

    def test_read_only_fields_sent_by_the_client_are_ignored(self, api: httpx.Client) -> None:
        """pbCreateDate, pbUpdateDate and status in a request do not override PB's own."""
        sent = product("A1", pbCreateDate="2001-01-01T00:00:00.000+0000", status="UNPUBLISHED")
        body = api.post("/products", json=sent).json()
        assert not body["pbCreateDate"].startswith("2001")
        assert body["status"] == "PUBLISHED"

    def test_explicit_values_replace_the_defaults(self, api: httpx.Client) -> None:
        """active false and fulfillmentRegion ALL are kept as sent."""
        body = api.post("/products", json=product("A1", active=False, fulfillmentRegion="ALL"))
        assert body.json()["active"] is False and body.json()["fulfillmentRegion"] == "ALL"

    def test_duplicate_sku_is_400_naming_sku(self, api: httpx.Client) -> None:
        """Creating an existing (clientId, sku) again gets 400 with parameters ["sku"]."""
        api.post("/products", json=product("A1"))
        expect_error(api.post("/products", json=product("A1")), 400, "sku")

    def test_same_sku_for_another_client_is_a_different_product(self, api: httpx.Client) -> None:
        """Products are keyed by (clientId, sku)."""
        assert api.post("/products", json=product("A1", "C1")).status_code == 201
        assert api.post("/products", json=product("A1", "C2")).status_code == 201

    def test_status_can_be_forced_to_unpublished(
        self, sandbox: ServedSandboxHandle, api: httpx.Client
    ) -> None:
        """The product_status hook stamps UNPUBLISHED on written products."""
        sandbox.admin.configure(product_status="UNPUBLISHED")
        assert api.post("/products", json=product("A1")).json()["status"] == "UNPUBLISHED"


INVALID_PRODUCTS: list[tuple[str, dict[str, Any], str]] = [
    ("missing clientId", {"clientId": None}, "clientId"),
    ("empty clientId", {"clientId": "  "}, "clientId"),
    ("missing sku", {"sku": None}, "sku"),
    ("sku too long", {"sku": "S" * 31}, "sku"),
    ("sku not a string", {"sku": 12}, "sku"),
    ("missing productType", {"productType": None}, "productType"),
    ("bad productType", {"productType": "BUNDLE"}, "productType"),
    ("missing details", {"details": None}, "details"),
    ("details not an object", {"details": "text"}, "details"),
    ("bad fulfillmentRegion", {"fulfillmentRegion": "EU"}, "fulfillmentRegion"),
    ("options not an array", {"options": {"a": 1}}, "options"),
    ("option not an object", {"options": ["red"]}, "options[0]"),
    ("active not boolean", {"active": "yes"}, "active"),
    ("bad createDate", {"createDate": "yesterday"}, "createDate"),
    ("bad updateDate", {"updateDate": "2024-13-45"}, "updateDate"),
    ("vendor name only", {"vendorDetails": {"name": "Acme"}}, "vendorDetails.number"),
    ("vendor number only", {"vendorDetails": {"number": "V1"}}, "vendorDetails.name"),
    (
        "vendor name too long",
        {"vendorDetails": {"name": "N" * 51, "number": "1"}},
        "vendorDetails.name",
    ),
    (
        "vendor number too long",
        {"vendorDetails": {"name": "A", "number": "9" * 31}},
        "vendorDetails.number",
    ),
    ("vendorDetails not an object", {"vendorDetails": "Acme"}, "vendorDetails"),
]


class TestProductValidation:
    @pytest.mark.parametrize(
        ("change", "parameter"),
        [(c, p) for _, c, p in INVALID_PRODUCTS],
        ids=[name for name, _, _ in INVALID_PRODUCTS],
    )
    def test_each_rule_rejects_a_violating_create(
        self, api: httpx.Client, change: dict[str, Any], parameter: str
    ) -> None:
        """A create breaking one documented rule gets 400 naming the offending field."""
        body = {k: v for k, v in {**product("A1"), **change}.items() if v is not None}
        error = expect_error(api.post("/products", json=body), 400, parameter)
        assert error["errorCode"] == "validation.failed"
        assert api.get("/products/A1", params={"clientId": "C1"}).status_code == 404

    def test_limits_are_inclusive(self, api: httpx.Client) -> None:
        """A 30-character sku and 50/30-character vendor fields are accepted."""
        vendor = {"name": "N" * 50, "number": "9" * 30}
        response = api.post("/products", json=product("S" * 30, vendorDetails=vendor))
        assert response.status_code == 201

    def test_all_problems_are_reported_at_once(self, api: httpx.Client) -> None:
        """Several broken fields give one 400 with an error item for each."""
        body = {"clientId": "C1", "sku": "S" * 31, "productType": "X"}
        response = api.post("/products", json=body)
        named = {p for e in response.json()["errors"] for p in e["parameters"]}
        assert {"sku", "productType", "details"} <= named

    @pytest.mark.parametrize("raw", [b"{not json", b"", b"[1, 2", "ü".encode("latin-1")])
    def test_invalid_json_is_400_with_code_1000050(self, api: httpx.Client, raw: bytes) -> None:
        """A body that is not JSON gets 400 with the documented invalid-JSON code."""
        response = api.post("/products", content=raw, headers={"Content-Type": "application/json"})
        assert expect_error(response, 400)["errorCode"] == "1000050"

    @pytest.mark.parametrize("body", [[], "text", 3, None])
    def test_a_body_that_is_not_an_object_is_400(self, api: httpx.Client, body: Any) -> None:
        """Valid JSON that is not an object gets 400 naming the body."""
        expect_error(api.post("/products", json=body), 400, "body")


class TestReplaceProduct:
    def test_put_is_a_full_replacement(self, api: httpx.Client) -> None:
        """Fields left out of a PUT are cleared; pbCreateDate stays, pbUpdateDate moves on."""
        created = api.post("/products", json=product("A1", options=[{"o": 1}], note="x")).json()
        response = api.put("/products/A1", json=product("A1", productType="KIT"))
        assert response.status_code == 200
        body = response.json()
        assert "options" not in body and "note" not in body
        assert body["productType"] == "KIT"
        assert body["pbCreateDate"] == created["pbCreateDate"]
        assert body["pbUpdateDate"] > created["pbUpdateDate"]
        assert api.get("/products/A1", params={"clientId": "C1"}).json() == body

    def test_put_can_deactivate(self, api: httpx.Client) -> None:
        """active false through PUT is the documented way to retire a product."""
        api.post("/products", json=product("A1"))
        assert api.put("/products/A1", json=product("A1", active=False)).json()["active"] is False

    def test_put_on_an_unknown_sku_is_404(self, api: httpx.Client) -> None:
        """PUT of a sku the client does not have gets 404."""
        expect_error(api.put("/products/NOPE", json=product("NOPE")), 404, "sku")

    def test_put_for_another_client_is_404(self, api: httpx.Client) -> None:
        """PUT only finds the product of the body's clientId."""
        api.post("/products", json=product("A1", "C1"))
        expect_error(api.put("/products/A1", json=product("A1", "C2")), 404)

    def test_body_and_path_sku_must_match(self, api: httpx.Client) -> None:
        """A PUT whose body sku differs from the path gets 400 naming sku."""
        api.post("/products", json=product("A1"))
        api.post("/products", json=product("B1"))
        expect_error(api.put("/products/A1", json=product("B1")), 400, "sku")

    def test_put_validates_like_create(self, api: httpx.Client) -> None:
        """A PUT body breaking a rule gets 400 naming the field (here the sku length)."""
        api.post("/products", json=product("A1"))
        body = product("A1", vendorDetails={"name": "only a name"})
        expect_error(api.put("/products/A1", json=body), 400, "vendorDetails.number")

    def test_client_id_may_come_from_the_query(self, api: httpx.Client) -> None:
        """PUT accepts ?clientId= when the body has none (§6.2)."""
        api.post("/products", json=product("A1"))
        body = {k: v for k, v in product("A1").items() if k != "clientId"}
        assert api.put("/products/A1", json=body, params={"clientId": "C1"}).status_code == 200

    def test_query_and_body_client_ids_must_agree(self, api: httpx.Client) -> None:
        """A ?clientId= that contradicts the body gets 400 naming clientId."""
        api.post("/products", json=product("A1"))
        response = api.put("/products/A1", json=product("A1"), params={"clientId": "C9"})
        expect_error(response, 400, "clientId")

    def test_type_change_is_refused_in_strict_mode(
        self, sandbox: ServedSandboxHandle, api: httpx.Client
    ) -> None:
        """With strict_product_type an ITEM cannot become a KIT."""
        sandbox.admin.configure(strict_product_type=True)
        api.post("/products", json=product("A1"))
        expect_error(api.put("/products/A1", json=product("A1", productType="KIT")), 400)

    def test_rapid_updates_still_move_pb_update_date(self, api: httpx.Client) -> None:
        """Each PUT gives a later pbUpdateDate, even within one millisecond."""
        api.post("/products", json=product("A1"))
        stamps = [
            api.put("/products/A1", json=product("A1")).json()["pbUpdateDate"] for _ in range(5)
        ]
        assert stamps == sorted(set(stamps))


class TestGetProduct:
    def test_get_with_and_without_client_id(self, api: httpx.Client) -> None:
        """GET /products/{sku} works with ?clientId= and without it (§13.9)."""
        api.post("/products", json=product("A1"))
        assert api.get("/products/A1", params={"clientId": "C1"}).json()["sku"] == "A1"
        assert api.get("/products/A1").json()["sku"] == "A1"

    def test_unknown_sku_is_404(self, api: httpx.Client) -> None:
        """GET of an unknown sku gets 404 with the unified error."""
        expect_error(api.get("/products/NOPE", params={"clientId": "C1"}), 404, "sku")

    def test_another_clients_product_is_404(self, api: httpx.Client) -> None:
        """GET with a clientId that does not own the sku gets 404."""
        api.post("/products", json=product("A1", "C1"))
        expect_error(api.get("/products/A1", params={"clientId": "C2"}), 404)

    def test_skus_with_reserved_characters_round_trip(self, api: httpx.Client) -> None:
        """A sku with a slash, space and percent sign is reachable URL-encoded."""
        sku = "A/B C%1"
        api.post("/products", json=product(sku))
        response = api.get("/products/" + quote(sku, safe=""), params={"clientId": "C1"})
        assert response.json()["sku"] == sku


class TestMethodsAndRoutes:
    @pytest.mark.parametrize(
        ("method", "path"),
        [
            ("DELETE", "/products/A1"),
            ("PATCH", "/products/A1"),
            ("DELETE", "/products"),
            ("GET", "/products"),
            ("GET", "/products/bulk"),
            ("GET", "/products/search"),
            ("DELETE", "/bill-of-materials/ID1"),
            ("PATCH", "/bill-of-materials/ID1"),
            ("GET", "/bill-of-materials/search"),
            ("GET", "/inventory/snapshot"),
        ],
    )
    def test_undocumented_methods_are_405(self, api: httpx.Client, method: str, path: str) -> None:
        """No DELETE (or other undocumented method) exists: 405 with an Allow header."""
        response = api.request(method, path)
        expect_error(response, 405)
        assert response.headers["allow"]

    def test_unknown_routes_are_404(self, api: httpx.Client) -> None:
        """A path the API does not have gets 404 in the unified shape."""
        expect_error(api.get("/nothing-here"), 404)
        expect_error(api.post("/v2/products", json={}), 404)


class TestBulk:
    def test_bulk_creates_and_updates_and_reports_each_item(self, api: httpx.Client) -> None:
        """CREATE and UPDATE items are applied; the answer lists clientId, sku, status."""
        api.post("/products", json=product("OLD"))
        items = [
            {**product("NEW"), "operation": "CREATE"},
            {**product("OLD", productType="KIT"), "operation": "UPDATE"},
        ]
        response = api.post("/products/bulk", json={"products": items})
        assert response.status_code == 200
        assert response.json() == {
            "products": [
                {"clientId": "C1", "sku": "NEW", "status": "PUBLISHED"},
                {"clientId": "C1", "sku": "OLD", "status": "PUBLISHED"},
            ]
        }
        assert api.get("/products/OLD", params={"clientId": "C1"}).json()["productType"] == "KIT"
        assert "operation" not in api.get("/products/NEW", params={"clientId": "C1"}).json()

    def test_bulk_update_is_a_full_replacement(self, api: httpx.Client) -> None:
        """Fields left out of a bulk UPDATE item are cleared, like PUT."""
        api.post("/products", json=product("A1", options=[{"o": 1}]))
        item = {**product("A1"), "operation": "UPDATE"}
        api.post("/products/bulk", json={"products": [item]})
        assert "options" not in api.get("/products/A1", params={"clientId": "C1"}).json()

    def test_200_items_are_accepted_and_201_refused(self, api: httpx.Client) -> None:
        """The bulk ceiling is 200 items; 201 gets 400 naming products."""
        items = [{**product(f"S{i}"), "operation": "CREATE"} for i in range(201)]
        expect_error(api.post("/products/bulk", json={"products": items}), 400, "products")
        assert api.post("/products/bulk", json={"products": items[:200]}).status_code == 200

    @pytest.mark.parametrize("body", [{}, {"products": []}, {"products": {"a": 1}}])
    def test_missing_or_empty_products_is_400(self, api: httpx.Client, body: Any) -> None:
        """A bulk body without a non-empty products array gets 400 naming products."""
        expect_error(api.post("/products/bulk", json=body), 400, "products")

    @pytest.mark.parametrize("operation", [None, "DELETE", "create"])
    def test_operation_must_be_create_or_update(self, api: httpx.Client, operation: Any) -> None:
        """Each item needs operation CREATE or UPDATE (400 naming products[i].operation)."""
        items = [{**product("A"), "operation": "CREATE"}, {**product("B"), "operation": operation}]
        response = api.post("/products/bulk", json={"products": items})
        expect_error(response, 400, "products[1].operation")

    def test_item_errors_name_the_item(self, api: httpx.Client) -> None:
        """A bad field in item 3 is reported as products[3].<field>."""
        items = [{**product(f"S{i}"), "operation": "CREATE"} for i in range(4)]
        items[3]["sku"] = "X" * 31
        items[2]["vendorDetails"] = {"name": "only"}
        response = api.post("/products/bulk", json={"products": items})
        expect_error(response, 400, "products[3].sku")
        expect_error(response, 400, "products[2].vendorDetails.number")

    def test_a_bad_item_fails_the_whole_request_and_writes_nothing(self, api: httpx.Client) -> None:
        """Whole-request mode: one failing item means no item is written (atomic)."""
        items = [
            {**product("GOOD"), "operation": "CREATE"},
            {**product("BAD"), "operation": "UPDATE"},
        ]
        expect_error(api.post("/products/bulk", json={"products": items}), 400, "products[1].sku")
        assert api.get("/products/GOOD", params={"clientId": "C1"}).status_code == 404

    def test_create_of_an_existing_sku_is_an_item_failure(self, api: httpx.Client) -> None:
        """CREATE on an existing sku names products[i].sku."""
        api.post("/products", json=product("A1"))
        items = [{**product("A1"), "operation": "CREATE"}]
        expect_error(api.post("/products/bulk", json={"products": items}), 400, "products[0].sku")

    def test_create_then_update_in_one_request(self, api: httpx.Client) -> None:
        """Items apply in order: a CREATE followed by an UPDATE of the same sku succeeds."""
        items = [
            {**product("A1"), "operation": "CREATE"},
            {**product("A1", productType="KIT"), "operation": "UPDATE"},
        ]
        assert api.post("/products/bulk", json={"products": items}).status_code == 200
        assert api.get("/products/A1", params={"clientId": "C1"}).json()["productType"] == "KIT"

    def test_per_item_mode_writes_good_items_and_flags_bad_ones(
        self, sandbox: ServedSandboxHandle, api: httpx.Client
    ) -> None:
        """per-item mode: 200, bad items UNPUBLISHED and unwritten, good items written."""
        sandbox.admin.configure(bulk_item_failures="per-item")
        items = [
            {**product("GOOD"), "operation": "CREATE"},
            {**product("MISSING"), "operation": "UPDATE"},
            {**product("BAD", productType="X"), "operation": "CREATE"},
        ]
        response = api.post("/products/bulk", json={"products": items})
        assert response.status_code == 200
        statuses = {p["sku"]: p["status"] for p in response.json()["products"]}
        assert statuses == {"GOOD": "PUBLISHED", "MISSING": "UNPUBLISHED", "BAD": "UNPUBLISHED"}
        assert api.get("/products/GOOD", params={"clientId": "C1"}).status_code == 200
        assert api.get("/products/MISSING", params={"clientId": "C1"}).status_code == 404

    def test_item_that_is_not_an_object_is_named(self, api: httpx.Client) -> None:
        """A bulk element that is not an object gets 400 naming products[i]."""
        response = api.post("/products/bulk", json={"products": ["nope"]})
        expect_error(response, 400, "products[0]")

    def test_bulk_type_change_is_an_item_failure_in_strict_mode(
        self, sandbox: ServedSandboxHandle, api: httpx.Client
    ) -> None:
        """With strict_product_type a bulk UPDATE may not turn an ITEM into a KIT."""
        sandbox.admin.configure(strict_product_type=True)
        api.post("/products", json=product("A1"))
        items = [{**product("A1", productType="KIT"), "operation": "UPDATE"}]
        response = api.post("/products/bulk", json={"products": items})
        expect_error(response, 400, "products[0].productType")
