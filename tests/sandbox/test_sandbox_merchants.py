"""Get Merchant Accounts in the emulator (contract §15): 64 fixtures, 0-based pages,
Spring's envelope, sort=property,direction, 404 for another developer id."""

from __future__ import annotations

import httpx2 as httpx

from tests.support.cli import run
from tests.support.sandbox import ServedSandboxHandle, expect_error

PATH = "/shippingservices/v1/developers/{}/merchants"


def page(api: httpx.Client, sandbox: ServedSandboxHandle, **params: object) -> dict[str, object]:
    response = api.get(sandbox.url + PATH.format("sandbox-developer"), params=params)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


class TestMerchantsRoute:
    def test_spring_envelope_page_0_first(
        self, sandbox: ServedSandboxHandle, api: httpx.Client
    ) -> None:
        first = page(api, sandbox)
        assert first["number"] == 0 and first["first"] is True and first["size"] == 20
        assert first["totalElements"] == 64 and first["totalPages"] == 4
        assert first["numberOfElements"] == 20 and first["sort"] == []

    def test_last_page_and_size_cap(self, sandbox: ServedSandboxHandle, api: httpx.Client) -> None:
        assert page(api, sandbox, page=3)["last"] is True
        assert page(api, sandbox, size=5000)["size"] == 2000

    def test_sorted_both_ways(self, sandbox: ServedSandboxHandle, api: httpx.Client) -> None:
        body = page(api, sandbox, size=64, sort="email,desc")
        emails = [m["email"] for m in body["content"]]  # type: ignore[union-attr,index]
        assert emails == sorted(emails, reverse=True)
        assert body["sort"][0]["descending"] is True  # type: ignore[index]

    def test_unknown_sort_property_is_400(
        self, sandbox: ServedSandboxHandle, api: httpx.Client
    ) -> None:
        url = sandbox.url + PATH.format("sandbox-developer")
        expect_error(api.get(url, params={"sort": "shoeSize,asc"}), 400, "sort")

    def test_other_developer_is_404(self, sandbox: ServedSandboxHandle, api: httpx.Client) -> None:
        expect_error(api.get(sandbox.url + PATH.format("someone")), 404, "developerId")

    def test_no_transaction_id_needed(self, sandbox: ServedSandboxHandle) -> None:
        """The merchants page lists only Authorization (and the unified-error header)."""
        with sandbox.client(transaction_ids=False) as api:
            assert api.get(sandbox.url + PATH.format("sandbox-developer")).status_code == 200


def test_sandbox_serve_refuses_a_bad_setting() -> None:
    """`sandbox serve --set` checks each setting before listening: exit 64, the reason."""
    result = run(["sandbox", "serve", "--port", "0", "--set", "include_inactive=sometimes"])
    assert result.code == 64
    assert "--set include_inactive: must be one of both, only, ignored" in result.stderr
