"""Contract §7, §13.11: BOM create, PUT by PB-assigned id, and Find a BOM, over HTTP."""

from __future__ import annotations

import re
from typing import Any

import httpx2 as httpx
import pytest

from tests.support.sandbox import ServedSandboxHandle, bom, expect_error, product, search_page

BOM_DATE = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"


@pytest.fixture
def catalog(sandbox: ServedSandboxHandle) -> None:
    """Kit K1, K2 and items A, B, C for client C1; item X for client C2."""
    sandbox.admin.load(
        products=[
            product("K1", productType="KIT"),
            product("K2", productType="KIT"),
            product("A"),
            product("B"),
            product("C"),
            product("X", "C2"),
        ]
    )


def find(api: httpx.Client, *fields: dict[str, Any], **params: Any) -> dict[str, Any]:
    return search_page(api, "/bill-of-materials/search", *fields, **params)


def ids(result: dict[str, Any]) -> list[str]:
    return [b["billOfMaterialId"] for b in result["content"]]


@pytest.mark.usefixtures("catalog")
class TestCreateBom:
    def test_create_answers_201_with_a_pb_assigned_string_id(self, api: httpx.Client) -> None:
        """POST /bill-of-materials echoes the BOM with billOfMaterialId, active and dates."""
        response = api.post("/bill-of-materials", json=bom("K1", ("A", 2), ("B", 1)))
        assert response.status_code == 201
        body = response.json()
        assert isinstance(body["billOfMaterialId"], str) and body["billOfMaterialId"]
        assert body["billOfMaterialDetails"] == [
            {"sku": "A", "quantity": 2},
            {"sku": "B", "quantity": 1},
        ]
        assert body["active"] is True
        assert re.match(BOM_DATE, body["pbCreateDate"]) and re.match(BOM_DATE, body["pbUpdateDate"])

    def test_each_create_gets_a_new_id(self, api: httpx.Client) -> None:
        """Two BOMs for one kit are allowed and get different ids (§7.2)."""
        first = api.post("/bill-of-materials", json=bom("K1", ("A", 1))).json()
        second = api.post("/bill-of-materials", json=bom("K1", ("B", 1), node="N2")).json()
        assert first["billOfMaterialId"] != second["billOfMaterialId"]

    def test_a_client_supplied_id_is_ignored(self, api: httpx.Client) -> None:
        """PB assigns the id; one sent in the body does not win."""
        body = api.post(
            "/bill-of-materials", json=bom("K1", ("A", 1), billOfMaterialId="MINE")
        ).json()
        assert body["billOfMaterialId"] != "MINE"

    def test_unknown_fields_round_trip(self, api: httpx.Client) -> None:
        """Extra keys on the BOM and on components are stored and echoed (§13.11)."""
        sent = bom(
            "K1",
            ("A", 1),
            node="N1",
            brand="Acme",
            notes=["n"],
            instructions=[{"instruction": "i"}],
            extra={"x": 1},
        )
        sent["billOfMaterialDetails"][0]["uom"] = "EA"
        body = api.post("/bill-of-materials", json=sent).json()
        for key in ("node", "brand", "notes", "instructions", "extra", "billOfMaterialDetails"):
            assert body[key] == sent[key]

    def test_unknown_kit_is_400_naming_sku(self, api: httpx.Client) -> None:
        """The kit sku must exist as a product of the client."""
        expect_error(api.post("/bill-of-materials", json=bom("NOKIT", ("A", 1))), 400, "sku")

    def test_kit_of_another_client_is_400(self, api: httpx.Client) -> None:
        """A kit owned by another client does not count."""
        body = bom("X", ("A", 1))
        expect_error(api.post("/bill-of-materials", json=body), 400, "sku")

    def test_unknown_component_is_400_naming_its_index(self, api: httpx.Client) -> None:
        """Each component sku must exist; the error names billOfMaterialDetails[i].sku."""
        response = api.post("/bill-of-materials", json=bom("K1", ("A", 1), ("X", 1), ("NOPE", 1)))
        expect_error(response, 400, "billOfMaterialDetails[1].sku")
        expect_error(response, 400, "billOfMaterialDetails[2].sku")

    def test_a_kit_may_not_list_itself(self, api: httpx.Client) -> None:
        """Listing the kit as its own component gets 400 naming that component."""
        response = api.post("/bill-of-materials", json=bom("K1", ("A", 1), ("K1", 1)))
        expect_error(response, 400, "billOfMaterialDetails[1].sku")

    def test_strict_kit_type_requires_a_kit_product(
        self, sandbox: ServedSandboxHandle, api: httpx.Client
    ) -> None:
        """With strict_kit_type a BOM on an ITEM product gets 400 naming sku."""
        sandbox.admin.configure(strict_kit_type=True)
        expect_error(api.post("/bill-of-materials", json=bom("A", ("B", 1))), 400, "sku")
        assert api.post("/bill-of-materials", json=bom("K1", ("B", 1))).status_code == 201

    def test_node_allow_list_rejects_unknown_centers(
        self, sandbox: ServedSandboxHandle, api: httpx.Client
    ) -> None:
        """With node_allow_list set, a BOM node outside it gets 400 naming node (§11)."""
        sandbox.admin.configure(node_allow_list=["PB-EAST", "PB-WEST"])
        expect_error(
            api.post("/bill-of-materials", json=bom("K1", ("A", 1), node="MOON")), 400, "node"
        )
        assert (
            api.post("/bill-of-materials", json=bom("K1", ("A", 1), node="PB-WEST")).status_code
            == 201
        )
        assert api.post("/bill-of-materials", json=bom("K1", ("A", 1))).status_code == 201

    def test_strict_one_active_bom_per_kit_and_node(
        self, sandbox: ServedSandboxHandle, api: httpx.Client
    ) -> None:
        """With strict_one_active_bom a second active BOM for (sku, node) gets 400."""
        sandbox.admin.configure(strict_one_active_bom=True)
        assert (
            api.post("/bill-of-materials", json=bom("K1", ("A", 1), node="N1")).status_code == 201
        )
        expect_error(
            api.post("/bill-of-materials", json=bom("K1", ("B", 1), node="N1")), 400, "sku"
        )
        assert (
            api.post("/bill-of-materials", json=bom("K1", ("B", 1), node="N2")).status_code == 201
        )
        inactive = bom("K1", ("B", 1), node="N1", active=False)
        assert api.post("/bill-of-materials", json=inactive).status_code == 201


INVALID_BOMS: list[tuple[str, dict[str, Any], str]] = [
    ("missing clientId", {"clientId": None}, "clientId"),
    ("missing sku", {"sku": None}, "sku"),
    ("sku too long", {"sku": "K" * 31}, "sku"),
    ("missing description", {"description": None}, "description"),
    ("description too long", {"description": "D" * 31}, "description"),
    ("brand too long", {"brand": "B" * 31}, "brand"),
    ("node not a string", {"node": 5}, "node"),
    ("active not boolean", {"active": "no"}, "active"),
    ("bad createDate", {"createDate": "31/12/2024"}, "createDate"),
    ("notes not an array", {"notes": "n"}, "notes"),
    ("note too long", {"notes": ["ok", "N" * 51]}, "notes[1]"),
    ("note not a string", {"notes": [1]}, "notes[0]"),
    ("instruction not an object", {"instructions": ["x"]}, "instructions[0]"),
    ("missing details", {"billOfMaterialDetails": None}, "billOfMaterialDetails"),
    ("empty details", {"billOfMaterialDetails": []}, "billOfMaterialDetails"),
    ("details not an array", {"billOfMaterialDetails": {"sku": "A"}}, "billOfMaterialDetails"),
    ("element not an object", {"billOfMaterialDetails": ["A"]}, "billOfMaterialDetails[0]"),
    (
        "component sku missing",
        {"billOfMaterialDetails": [{"quantity": 1}]},
        "billOfMaterialDetails[0].sku",
    ),
    (
        "component sku too long",
        {"billOfMaterialDetails": [{"sku": "A" * 31, "quantity": 1}]},
        "billOfMaterialDetails[0].sku",
    ),
    (
        "quantity missing",
        {"billOfMaterialDetails": [{"sku": "A"}]},
        "billOfMaterialDetails[0].quantity",
    ),
    (
        "quantity zero",
        {"billOfMaterialDetails": [{"sku": "A", "quantity": 0}]},
        "billOfMaterialDetails[0].quantity",
    ),
    (
        "quantity negative",
        {"billOfMaterialDetails": [{"sku": "A", "quantity": -2}]},
        "billOfMaterialDetails[0].quantity",
    ),
    (
        "quantity fractional",
        {"billOfMaterialDetails": [{"sku": "A", "quantity": 1.5}]},
        "billOfMaterialDetails[0].quantity",
    ),
    (
        "quantity a string",
        {"billOfMaterialDetails": [{"sku": "A", "quantity": "2"}]},
        "billOfMaterialDetails[0].quantity",
    ),
    (
        "quantity a boolean",
        {"billOfMaterialDetails": [{"sku": "A", "quantity": True}]},
        "billOfMaterialDetails[0].quantity",
    ),
]


@pytest.mark.usefixtures("catalog")
class TestBomValidation:
    @pytest.mark.parametrize(
        ("change", "parameter"),
        [(c, p) for _, c, p in INVALID_BOMS],
        ids=[name for name, _, _ in INVALID_BOMS],
    )
    def test_each_rule_rejects_a_violating_create(
        self, api: httpx.Client, change: dict[str, Any], parameter: str
    ) -> None:
        """A BOM breaking one rule gets 400 naming the offending field path."""
        body = {k: v for k, v in {**bom("K1", ("A", 1)), **change}.items() if v is not None}
        error = expect_error(api.post("/bill-of-materials", json=body), 400, parameter)
        assert error["errorCode"] == "validation.failed"
        assert find(api, {"name": "includeInactive", "values": ["true"]})["totalElements"] == 0

    def test_limits_are_inclusive(self, api: httpx.Client) -> None:
        """30-character description and brand and 50-character notes are accepted."""
        body = bom("K1", ("A", 1), description="D" * 30, brand="B" * 30, notes=["N" * 50])
        assert api.post("/bill-of-materials", json=body).status_code == 201

    def test_invalid_json_is_400(self, api: httpx.Client) -> None:
        """A BOM body that is not JSON gets 400 with code 1000050."""
        response = api.post(
            "/bill-of-materials", content=b"nope", headers={"Content-Type": "application/json"}
        )
        assert expect_error(response, 400)["errorCode"] == "1000050"


@pytest.mark.usefixtures("catalog")
class TestReplaceBom:
    def test_put_is_a_full_replacement(self, api: httpx.Client) -> None:
        """PUT replaces components and clears omitted fields; the id and pbCreateDate stay."""
        created = api.post(
            "/bill-of-materials", json=bom("K1", ("A", 1), brand="Acme", node="N1")
        ).json()
        bom_id = created["billOfMaterialId"]
        response = api.put(f"/bill-of-materials/{bom_id}", json=bom("K1", ("B", 3)))
        assert response.status_code == 200
        body = response.json()
        assert body["billOfMaterialId"] == bom_id
        assert body["billOfMaterialDetails"] == [{"sku": "B", "quantity": 3}]
        assert "brand" not in body and "node" not in body
        assert body["pbCreateDate"] == created["pbCreateDate"]
        assert body["pbUpdateDate"] > created["pbUpdateDate"]
        assert ids(find(api, {"name": "childSku", "values": ["A"]})) == []
        assert ids(find(api, {"name": "childSku", "values": ["B"]})) == [bom_id]

    def test_put_can_deactivate(self, api: httpx.Client) -> None:
        """active false through PUT hides the BOM from default searches."""
        bom_id = api.post("/bill-of-materials", json=bom("K1", ("A", 1))).json()["billOfMaterialId"]
        assert (
            api.put(f"/bill-of-materials/{bom_id}", json=bom("K1", ("A", 1), active=False)).json()[
                "active"
            ]
            is False
        )
        assert find(api)["totalElements"] == 0

    def test_unknown_id_is_404(self, api: httpx.Client) -> None:
        """PUT of an id PB never assigned gets 404."""
        expect_error(api.put("/bill-of-materials/NOPE", json=bom("K1", ("A", 1))), 404)

    def test_another_clients_bom_is_404(
        self, sandbox: ServedSandboxHandle, api: httpx.Client
    ) -> None:
        """A PUT whose clientId does not own the BOM gets 404."""
        sandbox.admin.load(products=[product("K1", "C2", productType="KIT")])
        bom_id = api.post("/bill-of-materials", json=bom("K1", ("A", 1))).json()["billOfMaterialId"]
        body = bom("K1", ("X", 1), client_id="C2")
        expect_error(api.put(f"/bill-of-materials/{bom_id}", json=body), 404)

    def test_body_id_must_match_the_path(self, api: httpx.Client) -> None:
        """A body billOfMaterialId different from the path gets 400 naming it."""
        bom_id = api.post("/bill-of-materials", json=bom("K1", ("A", 1))).json()["billOfMaterialId"]
        body = bom("K1", ("A", 1), billOfMaterialId="OTHER")
        expect_error(api.put(f"/bill-of-materials/{bom_id}", json=body), 400, "billOfMaterialId")
        assert (
            api.put(
                f"/bill-of-materials/{bom_id}", json={**body, "billOfMaterialId": bom_id}
            ).status_code
            == 200
        )

    def test_put_checks_references(self, api: httpx.Client) -> None:
        """PUT applies the create rules: unknown components get 400 naming them."""
        bom_id = api.post("/bill-of-materials", json=bom("K1", ("A", 1))).json()["billOfMaterialId"]
        response = api.put(f"/bill-of-materials/{bom_id}", json=bom("K1", ("NOPE", 1)))
        expect_error(response, 400, "billOfMaterialDetails[0].sku")

    def test_put_validates_fields(self, api: httpx.Client) -> None:
        """PUT applies the create field rules (here quantity ≥ 1)."""
        bom_id = api.post("/bill-of-materials", json=bom("K1", ("A", 1))).json()["billOfMaterialId"]
        response = api.put(f"/bill-of-materials/{bom_id}", json=bom("K1", ("A", 0)))
        expect_error(response, 400, "billOfMaterialDetails[0].quantity")

    def test_reparenting_is_refused_in_strict_mode(
        self, sandbox: ServedSandboxHandle, api: httpx.Client
    ) -> None:
        """With strict_bom_reparent a PUT may not move the BOM to another kit."""
        bom_id = api.post("/bill-of-materials", json=bom("K1", ("A", 1))).json()["billOfMaterialId"]
        assert api.put(f"/bill-of-materials/{bom_id}", json=bom("K2", ("A", 1))).status_code == 200
        sandbox.admin.configure(strict_bom_reparent=True)
        expect_error(api.put(f"/bill-of-materials/{bom_id}", json=bom("K1", ("A", 1))), 400, "sku")


@pytest.mark.usefixtures("catalog")
class TestFindBom:
    def create(
        self, api: httpx.Client, kit: str, *components: tuple[str, int], **fields: Any
    ) -> str:
        response = api.post("/bill-of-materials", json=bom(kit, *components, **fields))
        assert response.status_code == 201, response.text
        return str(response.json()["billOfMaterialId"])

    def test_filters_by_parent_child_brand_and_id(self, api: httpx.Client) -> None:
        """parentSku, childSku, brand and billOfMaterialId each narrow the result."""
        one = self.create(api, "K1", ("A", 1), ("B", 1), brand="Acme")
        two = self.create(api, "K2", ("B", 1), ("C", 1), brand="Other")
        assert ids(find(api)) == [one, two]
        assert ids(find(api, {"name": "parentSku", "values": ["K2"]})) == [two]
        assert ids(find(api, {"name": "childSku", "values": ["A"]})) == [one]
        assert ids(find(api, {"name": "childSku", "values": ["B"]})) == [one, two]
        assert ids(find(api, {"name": "childSku", "values": ["A", "C"]})) == [one, two]
        assert ids(find(api, {"name": "brand", "values": ["Other"]})) == [two]
        assert ids(find(api, {"name": "billOfMaterialId", "values": [one]})) == [one]
        both = [{"name": "childSku", "values": ["B"]}, {"name": "brand", "values": ["Acme"]}]
        assert ids(find(api, *both)) == [one]

    def test_two_boms_for_one_kit_are_both_found(self, api: httpx.Client) -> None:
        """Several BOMs per kit are allowed and a parentSku search returns them all."""
        first = self.create(api, "K1", ("A", 1), node="N1")
        second = self.create(api, "K1", ("B", 1), node="N2")
        assert ids(find(api, {"name": "parentSku", "values": ["K1"]})) == [first, second]

    def test_inactive_boms_need_include_inactive(self, api: httpx.Client) -> None:
        """Inactive BOMs are hidden unless includeInactive ["true"] is sent (§13.11)."""
        live = self.create(api, "K1", ("A", 1))
        dead = self.create(api, "K2", ("A", 1), active=False)
        assert ids(find(api)) == [live]
        assert ids(find(api, {"name": "includeInactive", "values": ["true"]})) == [live, dead]
        assert ids(find(api, {"name": "includeInactive", "values": [True]})) == [live, dead]
        assert ids(find(api, {"name": "includeInactive", "values": ["false"]})) == [live]

    def test_include_inactive_rejects_non_boolean_values(self, api: httpx.Client) -> None:
        """includeInactive values must be true or false."""
        body = {
            "clientId": "C1",
            "searchFields": [{"name": "includeInactive", "values": ["maybe"]}],
        }
        expect_error(
            api.post("/bill-of-materials/search", json=body), 400, "searchFields[0].values[0]"
        )

    def test_date_filters_including_the_lower_case_spelling(
        self, sandbox: ServedSandboxHandle, api: httpx.Client
    ) -> None:
        """pbCreateDate and the page's pbupdateDate spelling both filter by date."""
        sandbox.admin.load(
            boms=[
                bom(
                    "K1",
                    ("A", 1),
                    billOfMaterialId="OLD",
                    pbCreateDate="2020-01-01T00:00:00Z",
                    pbUpdateDate="2020-01-02T00:00:00Z",
                ),
                bom("K2", ("A", 1), billOfMaterialId="NEW"),
            ]
        )
        assert ids(find(api, {"name": "pbCreateDate", "values": ["2019-01-01", "2021-01-01"]})) == [
            "OLD"
        ]
        assert ids(find(api, {"name": "pbupdateDate", "values": ["2025-01-01"]})) == ["NEW"]
        assert ids(find(api, {"name": "pbUpdateDate", "values": ["2025-01-01"]})) == ["NEW"]

    def test_boms_are_scoped_to_the_client(
        self, sandbox: ServedSandboxHandle, api: httpx.Client
    ) -> None:
        """Another client's BOMs are never returned."""
        sandbox.admin.load(boms=[bom("X", ("Y", 1), client_id="C2", billOfMaterialId="THEIRS")])
        self.create(api, "K1", ("A", 1))
        assert "THEIRS" not in ids(find(api))
        assert ids(find(api, client_id="C2")) == ["THEIRS"]

    def test_paging_and_page_cap_apply(
        self, sandbox: ServedSandboxHandle, api: httpx.Client
    ) -> None:
        """BOM search pages like product search, size capped at page_max."""
        sandbox.admin.configure(page_max=2)
        made = [self.create(api, "K1", ("A", 1)) for _ in range(3)]
        first, second = find(api, size=10), find(api, page=2, size=10)
        assert first["size"] == 2 and first["totalPages"] == 2 and not first["last"]
        assert ids(first) + ids(second) == made and second["last"]

    def test_unknown_search_field_is_400(self, api: httpx.Client) -> None:
        """A BOM searchFields name outside the documented list gets 400 naming it."""
        body = {"clientId": "C1", "searchFields": [{"name": "sku", "values": ["K1"]}]}
        expect_error(api.post("/bill-of-materials/search", json=body), 400, "searchFields[0].name")

    def test_missing_client_id_is_400(self, api: httpx.Client) -> None:
        """clientId is required in a BOM search."""
        expect_error(api.post("/bill-of-materials/search", json={}), 400, "clientId")


@pytest.mark.usefixtures("catalog")
class TestViewBomById:
    def test_get_by_id_answers_the_bom_as_search_shows_it(self, api: httpx.Client) -> None:
        """GET /bill-of-materials/{id} (overview page) answers the same object as the search."""
        created = api.post("/bill-of-materials", json=bom("K1", ("A", 2))).json()
        response = api.get(f"/bill-of-materials/{created['billOfMaterialId']}")
        assert response.status_code == 200
        assert response.json() == find(api)["content"][0] == created

    def test_an_inactive_bom_is_still_found_by_id(self, api: httpx.Client) -> None:
        """GET by id sees a BOM whatever its state (search hides inactive ones)."""
        created = api.post("/bill-of-materials", json=bom("K1", ("A", 2), active=False)).json()
        got = api.get(f"/bill-of-materials/{created['billOfMaterialId']}").json()
        assert got["active"] is False

    def test_unknown_id_is_404_with_the_unified_error(self, api: httpx.Client) -> None:
        """An id PB never assigned is 404 with the unified error object."""
        expect_error(api.get("/bill-of-materials/no-such-id"), 404)

    def test_the_switch_models_a_pb_without_the_route(
        self, api: httpx.Client, sandbox: ServedSandboxHandle
    ) -> None:
        """bom_get_by_id: false answers 404 even for a BOM that exists."""
        created = api.post("/bill-of-materials", json=bom("K1", ("A", 2))).json()
        sandbox.admin.configure(bom_get_by_id=False)
        expect_error(api.get(f"/bill-of-materials/{created['billOfMaterialId']}"), 404)
