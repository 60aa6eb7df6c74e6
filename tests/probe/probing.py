"""Shared by the probe tests: a catalog pointing at the served emulator, its fixtures,
and running `reconcile probe` to a {name: status} map."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.support.cli import Run, run
from tests.support.sandbox import ServedSandboxHandle, bom, product


def catalog(tmp_path: Path, sandbox: ServedSandboxHandle, extra: str = "") -> Path:
    """A catalog whose `staging` environment is the served emulator."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "reconcile.yaml").write_text(
        "client_id: C1\n"
        "environments:\n"
        "  staging:\n"
        f"    base_url: {sandbox.url}\n"
        "    developer_id: sandbox-developer\n" + extra
    )
    return tmp_path


def credentials(sandbox: ServedSandboxHandle) -> dict[str, str | None]:
    return {
        "PB_STAGING_API_KEY": sandbox.key,
        "PB_STAGING_API_SECRET": sandbox.secret,
        "PB_API_KEY": None,
        "PB_API_SECRET": None,
        "NO_COLOR": "1",
    }


def load_account(sandbox: ServedSandboxHandle) -> None:
    """An account every check can decide on: recent and old products, active and
    inactive BOMs, inventory records."""
    old = (datetime.now(UTC) - timedelta(days=400)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    items = [product(f"P{i}") for i in range(1, 7)]
    kits = [product("K1", productType="KIT"), product("K2", productType="KIT")]
    boms = [
        bom("K1", ("P1", 1), ("P2", 2), node="157"),
        bom("K1", ("P3", 1), node="157", active=False),
        bom("K2", ("P4", 3)),
    ]
    inventory = [{"clientId": "C1", "sku": "P1", "node": "157", "quantity": 4}]
    sandbox.admin.load(products=[*items, *kits], boms=boms, inventory=inventory)
    sandbox.admin.load(products=[product("OLD", pbCreateDate=old)])


def probe(
    directory: Path, sandbox: ServedSandboxHandle, *args: str, env: dict[str, Any] | None = None
) -> Run:
    result = run(
        ["probe", str(directory), "--env", "staging", *args],
        env={**credentials(sandbox), **(env or {})},
    )
    assert "Unexpected error" not in result.stderr, result.stderr
    return result


def statuses(result: Run) -> dict[str, str]:
    """{check name: status} of a `--format json` run."""
    document = json.loads(result.stdout)
    return {c["name"]: c["status"] for c in document["checks"]}


def failed(result: Run) -> list[str]:
    return [name for name, status in statuses(result).items() if status == "failed"]
