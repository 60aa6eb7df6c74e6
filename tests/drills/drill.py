"""Drills of write safety against the served emulator on 127.0.0.1: real `reconcile`
processes (a pipeline and a laptop), real concurrency, injected faults, kill -9.

Each drill builds a fresh emulator and a catalog of items and kits, runs the scenario,
and returns what an operator would count: exit codes, the active BOMs per key after the
first round and after at most one rerun, and whether the final plan is empty. Trials
are bounded in number (``RECONCILE_DRILL_TRIALS`` widens them for the full drill in
``.ci/run``) and every process has a timeout.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconcile.sandbox import SandboxConfig, Store, create_app, serve_in_thread

ROOT = Path(__file__).resolve().parents[2]
KEY, SECRET = "drill-key", "drill-secret"
CLIENT = "DRILL"
PROCESS_TIMEOUT = 180.0
#: Fast retries with a generous budget: a bad hour compressed into seconds.
LIMITS = {
    "requests_per_second": 100,
    "retry_wait_initial_seconds": 0.02,
    "retry_wait_max_seconds": 0.2,
    "retry_timeout_seconds": 60,
}


def trials(default: int) -> int:
    """How many trials a drill runs: ``default`` in the test run, more on request."""
    return int(os.environ.get("RECONCILE_DRILL_TRIALS", default))


@dataclass
class Emulator:
    url: str
    store: Store
    config: SandboxConfig

    def active_per_kit(self, kits: int) -> dict[str, int]:
        return {
            f"KIT-{k:03d}": len(self.store.active_bom_ids(CLIENT, f"KIT-{k:03d}", None))
            for k in range(kits)
        }


@contextmanager
def emulator(**settings: Any) -> Iterator[Emulator]:
    config = SandboxConfig(key=KEY, secret=SECRET, **settings)
    store = Store()
    with serve_in_thread(create_app(store, config)) as served:
        yield Emulator(served.url, store, config)
    store.close()


def write_catalog(root: Path, url: str, items: int, kits: int, **limits: Any) -> Path:
    """``items`` ITEM products, ``kits`` KIT products each with a BOM of 3 items."""
    root.mkdir(parents=True)
    settings = {
        "client_id": CLIENT,
        "limits": {**LIMITS, **limits},
        "environments": {"served": {"base_url": url}},
    }
    (root / "reconcile.yaml").write_text(json.dumps(settings), encoding="utf-8")
    products = [
        {"sku": f"ITEM-{i:04d}", "productType": "ITEM", "details": {"description": f"item {i}"}}
        for i in range(items)
    ] + [
        {"sku": f"KIT-{k:03d}", "productType": "KIT", "details": {"description": f"kit {k}"}}
        for k in range(kits)
    ]
    boms = [
        {
            "sku": f"KIT-{k:03d}",
            "description": f"kit {k}",
            "billOfMaterialDetails": [
                {"sku": f"ITEM-{(k * 3 + j) % items:04d}", "quantity": j + 1} for j in range(3)
            ],
        }
        for k in range(kits)
    ]
    (root / "catalog.yaml").write_text(json.dumps({"products": products}), encoding="utf-8")
    (root / "kits.yaml").write_text(json.dumps({"boms": boms}), encoding="utf-8")
    return root


def start(catalog: Path, *args: str) -> subprocess.Popen[str]:
    """``reconcile ARGS`` against environment ``served`` as its own process."""
    env = {
        **os.environ,
        "PB_SERVED_API_KEY": KEY,
        "PB_SERVED_API_SECRET": SECRET,
        "PYTHONPATH": str(ROOT),
        "NO_COLOR": "1",
    }
    command = [sys.executable, "-c", "from reconcile.cli import main; main()", *args]
    return subprocess.Popen(
        [*command, str(catalog), "--env", "served"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> tuple[int, str]:
    try:
        output, _ = process.communicate(timeout=PROCESS_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        return -1, output
    return process.returncode, output


def apply(catalog: Path) -> tuple[int, str]:
    return finish(start(catalog, "apply", "--auto-approve"))


def plan_is_empty(catalog: Path) -> bool:
    code, _ = finish(start(catalog, "plan", "--detailed-exitcode"))
    return code == 0


@dataclass
class Trial:
    """What one trial left behind."""

    first_codes: list[int]
    duplicates_first: int  # keys with two or more active BOMs after the first round
    reran: bool = False
    rerun_code: int | None = None
    duplicates_final: int = 0
    missing_final: int = 0  # keys with no active BOM at the end
    converged: bool = False
    outputs: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.duplicates_final == 0 and self.missing_final == 0 and self.converged


def settle(pb: Emulator, catalog: Path, kits: int, trial: Trial) -> Trial:
    """At most one rerun (when the first round did not end cleanly), then the checks."""
    counts = pb.active_per_kit(kits)
    trial.duplicates_first = sum(1 for n in counts.values() if n > 1)
    if any(code != 0 for code in trial.first_codes) or trial.duplicates_first:
        trial.reran = True
        # --force: an operator approves the rerun's plan, which may hold the clean-up of a
        # duplicate (deactivations the safety thresholds count, and may refuse unforced).
        trial.rerun_code, output = finish(start(catalog, "apply", "--auto-approve", "--force"))
        trial.outputs.append(output)
        counts = pb.active_per_kit(kits)
    trial.duplicates_final = sum(1 for n in counts.values() if n > 1)
    trial.missing_final = sum(1 for n in counts.values() if n == 0)
    trial.converged = plan_is_empty(catalog)
    return trial


def concurrent_applies(workdir: Path, runs: int, *, items: int, kits: int) -> Trial:
    """``runs`` applies of one catalog at once against a 20 ms emulator."""
    with emulator(latency_ms=20) as pb:
        catalog = write_catalog(workdir / "cat", pb.url, items, kits)
        processes = [start(catalog, "apply", "--auto-approve") for _ in range(runs)]
        results = [finish(p) for p in processes]
        trial = Trial([code for code, _ in results], 0, outputs=[out for _, out in results])
        return settle(pb, catalog, kits, trial)


def fault_soak(workdir: Path, seed: int, *, items: int, kits: int) -> Trial:
    """One first run under 20% faults (503/500/429/drop), faults after commit on writes."""
    settings = {
        "fault_rate": 0.2,
        "fault_kinds": ("503", "500", "429", "drop"),
        "faults_after_commit": True,
        "seed": seed,
        "retry_after_seconds": 0.05,
    }
    with emulator(**settings) as pb:
        catalog = write_catalog(workdir / "cat", pb.url, items, kits)
        code, output = apply(catalog)
        trial = Trial([code], 0, outputs=[output])
        pb.config.fault_rate = 0.0  # the checks read a quiet PB
        return settle(pb, catalog, kits, trial)


def killed_during_boms(workdir: Path, *, items: int, kits: int) -> Trial:
    """kill -9 an apply once its BOM creates have started, then one rerun."""
    with emulator(latency_ms=20) as pb:
        catalog = write_catalog(workdir / "cat", pb.url, items, kits)
        process = start(catalog, "apply", "--auto-approve")
        deadline = time.monotonic() + PROCESS_TIMEOUT
        while sum(pb.active_per_kit(kits).values()) < kits // 3:
            if process.poll() is not None or time.monotonic() > deadline:
                break
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
        code, output = finish(process)
        trial = Trial([code], 0, outputs=[output])
        return settle(pb, catalog, kits, trial)
