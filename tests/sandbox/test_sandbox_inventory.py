"""Contract §10, §13.12: the inventory snapshot serves fixture records, paged, by sku."""

from __future__ import annotations

from typing import Any

import httpx2 as httpx
import pytest

from tests.support.sandbox import ServedSandboxHandle, expect_error

RECORDS = [
    {"clientId": "C1", "sku": "B", "node": "N1", "quantity": 5},
    {"clientId": "C1", "sku": "A", "node": "N1", "quantity": 0},
    {"clientId": "C1", "sku": "A", "node": "N2", "quantity": 3, "status": {"onHand": 3}},
    {"clientId": "C2", "sku": "Z", "node": "N1", "quantity": 9},
    {"sku": "SHARED", "node": "N9", "quantity": 1},
]


def snapshot(api: httpx.Client, body: dict[str, Any], **params: Any) -> dict[str, Any]:
    response = api.post("/inventory/snapshot", json=body, params=params)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


@pytest.fixture
def stocked(sandbox: ServedSandboxHandle) -> None:
    """The RECORDS above loaded as inventory fixtures."""
    assert sandbox.admin.load(inventory=RECORDS)["inventory"] == RECORDS


@pytest.mark.usefixtures("stocked")
class TestInventorySnapshot:
    def test_records_are_the_clients_sorted_by_sku(self, api: httpx.Client) -> None:
        """Records of the client (and client-less fixtures) come back verbatim in sku order."""
        result = snapshot(api, {"clientId": "C1"})
        assert [(r["sku"], r["node"]) for r in result["content"]] == [
            ("A", "N1"),
            ("A", "N2"),
            ("B", "N1"),
            ("SHARED", "N9"),
        ]
        assert result["content"][1] == RECORDS[2]
        assert result["totalElements"] == 4 and result["page"] == 1

    def test_sku_desc_reverses_the_order(self, api: httpx.Client) -> None:
        """sort ["sku-desc"] lists the highest sku first."""
        result = snapshot(api, {"clientId": "C1", "sort": ["sku-desc"]})
        assert [r["sku"] for r in result["content"]] == ["SHARED", "B", "A", "A"]

    def test_sku_search_field_filters(self, api: httpx.Client) -> None:
        """searchFields sku keeps only the named skus."""
        body = {"clientId": "C1", "searchFields": [{"name": "sku", "values": ["A"]}]}
        assert [r["node"] for r in snapshot(api, body)["content"]] == ["N1", "N2"]

    def test_paging_applies(self, api: httpx.Client) -> None:
        """The snapshot uses the §9 envelope and 1-based pages."""
        result = snapshot(api, {"clientId": "C1"}, page=2, size=3)
        assert [r["sku"] for r in result["content"]] == ["SHARED"]
        assert result["last"] and not result["first"] and result["totalPages"] == 2

    @pytest.mark.parametrize(
        ("body", "parameter"),
        [
            ({}, "clientId"),
            ({"clientId": "C1", "sort": ["createDate-asc"]}, "sort[0]"),
            (
                {"clientId": "C1", "searchFields": [{"name": "node", "values": ["N1"]}]},
                "searchFields[0].name",
            ),
        ],
    )
    def test_bad_snapshot_requests_are_400(
        self, api: httpx.Client, body: dict[str, Any], parameter: str
    ) -> None:
        """A missing clientId, an unknown sort or search field is named in a 400."""
        expect_error(api.post("/inventory/snapshot", json=body), 400, parameter)

    def test_snapshot_needs_a_token(self, sandbox: ServedSandboxHandle, http: httpx.Client) -> None:
        """The snapshot route is a PB route: no bearer, 401."""
        response = http.post(f"{sandbox.api}/inventory/snapshot", json={"clientId": "C1"})
        expect_error(response, 401)
