"""A catalog directory wired to an emulator, for end-to-end tests of the engine and CLI.

Two flavours of one ``World``: ``inprocess`` uses the embedded ``local`` environment (the
sandbox in-process over httpx.ASGITransport, state in ``<catalog>/.reconcile/``), and
``loopback`` uses the session's uvicorn-served emulator on 127.0.0.1 through an
environment with a ``base_url``. Both expose the emulator's admin controls, so a test can
arrange remote state, script faults and count requests whichever way it runs.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx

from reconcile import engine
from reconcile.desired import load_settings
from reconcile.environments import connect, sandbox_path
from reconcile.models import ResourceSet
from reconcile.remote.fetch import fetch_current_state
from reconcile.remote.report import ApplyReport
from reconcile.sandbox import SandboxConfig, Store, create_app
from tests.support.client import run
from tests.support.sandbox import SandboxAdmin

CLIENT = "ACME"
TEST_ENV = "test"


def product(
    sku: str, kind: str = "ITEM", description: str | None = None, **fields: Any
) -> dict[str, Any]:
    return {
        "sku": sku,
        "productType": kind,
        "details": {"description": description or f"{sku} description"},
        **fields,
    }


def bom(sku: str, parts: dict[str, int], **fields: Any) -> dict[str, Any]:
    lines = [{"sku": s, "quantity": q} for s, q in parts.items()]
    return {"sku": sku, "description": f"{sku} recipe", "billOfMaterialDetails": lines, **fields}


def remote(obj: dict[str, Any]) -> dict[str, Any]:
    """A catalog object as a fixture PB would hold (with the client id)."""
    return {"clientId": CLIENT, **obj}


class _SyncASGI:
    """Just enough of ``httpx.Client`` for ``SandboxAdmin``, over an in-process app."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def request(self, method: str, url: str, json: Any = None) -> httpx.Response:
        return asyncio.run(self._request(method, url, json))

    async def _request(self, method: str, url: str, body: Any) -> httpx.Response:
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
            response = await http.request(method, url, json=body)
            await response.aread()
            return response

    def close(self) -> None:
        pass


class InProcessAdmin(SandboxAdmin):
    """The admin controls of the embedded sandbox: a second app on the same SQLite file."""

    def __init__(self, db: Path) -> None:
        self.url = "http://sandbox"
        self.store = Store(db)
        self._http = _SyncASGI(create_app(self.store, SandboxConfig.generate()))  # type: ignore[assignment]

    def close(self) -> None:
        self.store.close()


@dataclass
class World:
    directory: Path
    env: str
    environ: dict[str, str]
    admin: SandboxAdmin
    mode: str
    #: Tests run against a local emulator: PB's documented ceiling, not our polite default.
    settings: dict[str, Any] = field(
        default_factory=lambda: {"limits": {"requests_per_second": 100, "max_in_flight": 16}}
    )

    def write(
        self,
        products: Sequence[dict[str, Any]] = (),
        boms: Sequence[dict[str, Any]] = (),
        **settings: Any,
    ) -> None:
        """(Re)write the catalog: reconcile.yaml (client, environments) and one file."""
        merged = {"client_id": CLIENT, **self.settings, **settings}
        (self.directory / "reconcile.yaml").write_text(json.dumps(merged, indent=2))
        # JSON is YAML 1.2: the catalog loader reads it as it is.
        body = {"products": list(products), "boms": list(boms)}
        (self.directory / "catalog.yaml").write_text(json.dumps(body, indent=2))

    def plan(self, **options: Any) -> engine.PlanResult:
        return asyncio.run(
            engine.make_plan(self.directory, env=self.env, environ=self.environ, **options)
        )

    def apply(self, **options: Any) -> ApplyReport:
        """Plan and apply (like ``apply --auto-approve --force``)."""
        return self.apply_result(self.plan(**options))

    def apply_result(self, result: engine.PlanResult) -> ApplyReport:
        return asyncio.run(engine.apply_planned(result, environ=self.environ))

    def remote(self) -> ResourceSet:
        """What the emulator holds for the client, read through the real client."""
        settings = load_settings(self.directory)
        client, _ = connect(settings, self.env, catalog_dir=self.directory, environ=self.environ)
        return run(client, lambda c: fetch_current_state(c, CLIENT, desired_skus=()))


def make_world(mode: str, tmp_path: Path, sandbox: Any | None) -> Iterator[World]:
    directory = tmp_path / "catalog"
    directory.mkdir()
    if mode == "inprocess":
        world = World(directory, "local", {}, InProcessAdmin(sandbox_path(directory)), mode)
    else:
        assert sandbox is not None
        environments = {TEST_ENV: {"base_url": sandbox.url}}
        environ = {"PB_TEST_API_KEY": sandbox.key, "PB_TEST_API_SECRET": sandbox.secret}
        world = World(directory, TEST_ENV, environ, sandbox.admin, mode)
        world.settings.update(environments=environments, default_environment=TEST_ENV)
    world.write()
    try:
        yield world
    finally:
        if isinstance(world.admin, InProcessAdmin):
            world.admin.close()
