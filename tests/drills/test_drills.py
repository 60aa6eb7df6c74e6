"""Write-safety drills (issue: write safety, "Done when"): real concurrent `reconcile`
processes, 20% injected faults with faults after commit, kill -9 during BOM creates.

The default test run does a few trials of each; ``RECONCILE_DRILL_TRIALS=20`` (as
``.ci/run`` does) runs the full drill. Every trial must end, after at most one rerun,
with exactly one active BOM per key and an empty plan.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.drills.drill import Trial, concurrent_applies, fault_soak, killed_during_boms, trials


def report(name: str, results: list[Trial]) -> str:
    lines = [name]
    for i, t in enumerate(results):
        lines.append(
            f"  trial {i}: first exits {t.first_codes}, duplicate keys after the first round "
            f"{t.duplicates_first}, rerun {t.rerun_code if t.reran else '-'}, duplicates "
            f"{t.duplicates_final}, missing {t.missing_final}, plan empty {t.converged}"
        )
    return "\n".join(lines)


@pytest.mark.parametrize("runs", [2, 3])
def test_concurrent_applies_leave_one_active_bom_per_key(tmp_path: Path, runs: int) -> None:
    """Two or three applies of one catalog at once (20 ms latency), 20 kits: after at most
    one rerun, exactly one active BOM per key and an empty plan, every trial."""
    results = [
        concurrent_applies(tmp_path / f"t{i}", runs, items=30, kits=20) for i in range(trials(2))
    ]
    assert all(t.ok for t in results), report(f"{runs} concurrent applies", results)
    print(report(f"{runs} concurrent applies", results))


def test_first_runs_survive_twenty_percent_faults(tmp_path: Path) -> None:
    """300 items + 40 kits under 20% faults (503/500/429/dropped, after commit on writes):
    every first run exits 0, with no duplicate and PB equal to the catalog."""
    results = [
        fault_soak(tmp_path / f"s{seed}", seed, items=300, kits=40) for seed in range(trials(2))
    ]
    report_text = report("20% fault soak", results)
    assert all(t.first_codes == [0] and t.ok and not t.reran for t in results), report_text
    print(report_text)


def test_kill_9_during_bom_creates_then_rerun_converges(tmp_path: Path) -> None:
    """An apply killed (SIGKILL) while creating BOMs, then one rerun: no duplicate, every
    BOM present, empty plan."""
    results = [killed_during_boms(tmp_path / f"k{i}", items=30, kits=30) for i in range(trials(2))]
    assert all(t.ok for t in results), report("kill -9 during BOM creates", results)
    print(report("kill -9 during BOM creates", results))
