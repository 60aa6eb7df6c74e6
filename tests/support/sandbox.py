"""Test-side handles on the sandbox emulator: admin controls and a ready PB client.

``SandboxAdmin`` wraps the ``/__sandbox`` test routes of a served emulator over
loopback. ``ServedSandboxHandle`` is what the ``sandbox`` fixture yields.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx2 as httpx

API = "/shippingservices/fulfillment/v1"

# Building an httpx client loads the CA bundle (~50 ms); the tests only speak plain HTTP
# over loopback, so every client shares one context built once.
SHARED_SSL_CONTEXT = ssl.create_default_context()


class SandboxAdmin:
    """Synchronous client of the emulator's test controls (``/__sandbox/...``)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._http = httpx.Client(base_url=url, timeout=30.0, verify=SHARED_SSL_CONTEXT)

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, name: str, body: Any = None) -> Any:
        response = self._http.request(method, f"/__sandbox/{name}", json=body)
        if response.status_code >= 400:
            raise AssertionError(
                f"sandbox admin {method} {name} failed ({response.status_code}): {response.text}"
            )
        return response.json()

    def reset(self) -> None:
        """Wipe data, request log, scripted faults and tokens; restore the startup config."""
        self._call("POST", "reset")

    def configure(self, **settings: Any) -> dict[str, Any]:
        """Change runtime settings (latency_ms, fault_rate, page_max, ...); return them all."""
        result: dict[str, Any] = self._call("POST", "config", settings)
        return result

    def config(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "config")
        return result

    def load(
        self,
        products: list[dict[str, Any]] | None = None,
        boms: list[dict[str, Any]] | None = None,
        inventory: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Insert raw fixtures (no create validation); return the stored objects with ids."""
        body = {"products": products or [], "boms": boms or [], "inventory": inventory or []}
        result: dict[str, Any] = self._call("POST", "fixtures", body)
        return result

    def backdate(self, client_id: str, sku: str, when: str) -> dict[str, Any]:
        """Set a product's pbCreateDate (ISO 8601) and return the product."""
        body = {"clientId": client_id, "sku": sku, "pbCreateDate": when}
        result: dict[str, Any] = self._call("POST", "backdate", body)
        return result

    def fault(
        self,
        action: str,
        *,
        method: str | None = None,
        path_prefix: str | None = None,
        after_commit: bool = False,
        times: int = 1,
        retry_after: float | None = None,
        path: str | None = None,
    ) -> list[dict[str, Any]]:
        """Script a fault for the next ``times`` matching requests; return pending faults."""
        body = {
            "path": path,
            "action": action,
            "method": method,
            "path_prefix": path_prefix,
            "after_commit": after_commit,
            "times": times,
            "retry_after": retry_after,
        }
        result: list[dict[str, Any]] = self._call("POST", "faults", body)
        return result

    def faults(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", "faults")
        return result

    def stats(self) -> dict[str, Any]:
        """``{"total", "by_route": [{method, route, status, count}], "token_requests"}``."""
        result: dict[str, Any] = self._call("GET", "stats")
        return result

    def count(
        self, method: str | None = None, route: str | None = None, status: int | None = None
    ) -> int:
        """How many logged requests match (route is the template, with or without API prefix)."""
        if route is not None and not route.startswith((API, "/oauth", "/__sandbox", "(")):
            route = f"{API}/{route.lstrip('/')}"
        return sum(
            row["count"]
            for row in self.stats()["by_route"]
            if (method is None or row["method"] == method)
            and (route is None or row["route"] == route)
            and (status is None or row["status"] == status)
        )

    def log(self, since: float | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """Recent requests: ``{ts, method, route, path, status, transaction_id}``
        (only those after ``since``, epoch seconds; only the last ``limit``)."""
        query = urlencode(
            {k: v for k, v in {"since": since, "limit": limit}.items() if v is not None}
        )
        result: list[dict[str, Any]] = self._call("GET", f"log?{query}" if query else "log")
        return result

    def expire_tokens(self) -> int:
        """Invalidate every issued bearer token; return how many there were."""
        return int(self._call("POST", "tokens/expire")["expired"])


@dataclass
class ServedSandboxHandle:
    """A reset, running emulator: its URL, credentials and admin controls."""

    url: str
    key: str
    secret: str
    admin: SandboxAdmin

    @property
    def api(self) -> str:
        """Base URL of the Fulfillment routes."""
        return f"{self.url}{API}"

    def token(self) -> str:
        """A fresh bearer token for this emulator."""
        response = httpx.post(
            f"{self.url}/oauth/token",
            auth=(self.key, self.secret),
            data={"grant_type": "client_credentials"},
            verify=SHARED_SSL_CONTEXT,
        )
        response.raise_for_status()
        return str(response.json()["access_token"])

    def client(self, transaction_ids: bool = True) -> httpx.Client:
        """An httpx client on the API base with a bearer token (and transaction ids)."""
        counter = iter(range(1, 10**9))
        hooks: dict[str, list[Any]] = {}
        if transaction_ids:

            def add_id(request: httpx.Request) -> None:
                request.headers.setdefault("X-PB-TransactionId", f"test-{next(counter)}")

            hooks["request"] = [add_id]
        return httpx.Client(
            base_url=self.api,
            headers={"Authorization": f"Bearer {self.token()}"},
            event_hooks=hooks,
            timeout=30.0,
            verify=SHARED_SSL_CONTEXT,
        )


def expect_error(
    response: httpx.Response, status: int, parameter: str | None = None
) -> dict[str, Any]:
    """Assert a unified PB error answer (§8.2) with ``status``, naming ``parameter``.

    Returns the first error item that names ``parameter`` (or the first item).
    """
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    body = response.json()
    assert set(body) == {"errors"}, body
    assert body["errors"], body
    for error in body["errors"]:
        assert set(error) == {"errorCode", "errorDescription", "additionalInfo", "parameters"}
        assert isinstance(error["errorCode"], str) and error["errorCode"]
        assert not error["errorCode"].startswith("80"), "never an invented 80-prefix code"
        assert isinstance(error["errorDescription"], str) and error["errorDescription"]
        assert isinstance(error["parameters"], list)
    if parameter is None:
        first: dict[str, Any] = body["errors"][0]
        return first
    named = [e for e in body["errors"] if parameter in e["parameters"]]
    assert named, f"no error names {parameter!r}: {body}"
    return named[0]


def search_page(
    api: httpx.Client, path: str, *fields: dict[str, Any], **params: Any
) -> dict[str, Any]:
    """POST a search body to ``path`` (clientId C1 unless ``client_id``; ``sort`` goes in
    the body, other keywords in the query string) and return the 200 envelope."""
    body: dict[str, Any] = {"clientId": params.pop("client_id", "C1"), "searchFields": list(fields)}
    if "sort" in params:
        body["sort"] = params.pop("sort")
    response = api.post(path, json=body, params=params)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def product(sku: str, client_id: str = "C1", **fields: Any) -> dict[str, Any]:
    """A valid Products object (ITEM unless ``productType`` says otherwise)."""
    body: dict[str, Any] = {
        "clientId": client_id,
        "sku": sku,
        "productType": "ITEM",
        "details": {"description": f"product {sku}"},
    }
    body.update(fields)
    return body


def bom(
    kit: str, *components: tuple[str, int], client_id: str = "C1", **fields: Any
) -> dict[str, Any]:
    """A valid BOM object for kit ``kit`` listing ``(sku, quantity)`` components."""
    body: dict[str, Any] = {
        "clientId": client_id,
        "sku": kit,
        "description": f"kit {kit}",
        "billOfMaterialDetails": [{"sku": s, "quantity": q} for s, q in components],
    }
    body.update(fields)
    return body
