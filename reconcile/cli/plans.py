"""The plan/apply cycle: plan, apply, show (the pipeline and its policy: reconcile.engine)."""

from __future__ import annotations

import json
import pathlib
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from reconcile.cli.console import (
    Output,
    fail,
    print_apply_report,
    print_plan,
    print_warnings,
    run_with_progress,
    warn_if_nothing_selected,
)
from reconcile.cli.options import dir_argument, env_option, selection_options
from reconcile.cli.outputs import check_output_paths, write_output
from reconcile.errors import (
    EXIT_APPLY_FAILED,
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_OK,
    ReconcileError,
    StalePlan,
    UnsafePlan,
    UsageError,
)

if TYPE_CHECKING:
    from reconcile.engine import PlanResult
    from reconcile.plan.plan import Plan
    from reconcile.remote.report import ApplyReport, Outcome

PLAN_FORMATS = ("text", "full", "markdown", "json")  # full: text listing every create
EXIT_INTERRUPTED = 130


@click.command("plan")
@dir_argument()
@env_option()
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=pathlib.Path),
    metavar="FILE",
    help="also save the plan as JSON, for `apply --plan FILE` and `show FILE`",
)
@click.option("--format", "fmt", type=click.Choice(PLAN_FORMATS), default="text", show_default=True)
@click.option("--detailed-exitcode", is_flag=True, help="exit 2 when there are changes (0: none)")
@click.option(
    "--summary-json",
    type=click.Path(dir_okay=False, path_type=pathlib.Path),
    metavar="FILE",
    help="write a small JSON summary (counts, safety) for CI",
)
@selection_options
@click.pass_obj
def plan_command(
    output: Output,
    *,
    directory: pathlib.Path,
    env: str | None,
    out_file: pathlib.Path | None,
    fmt: str,
    detailed_exitcode: bool,
    summary_json: pathlib.Path | None,
    prune: bool | None,
    targets: tuple[str, ...],
    excludes: tuple[str, ...],
) -> int:
    """Show what apply would change in PB to match the catalog in DIRECTORY.

    Exits 0 (2 with --detailed-exitcode when there are changes), 3 for an invalid
    catalog, 4 when PB cannot be read, 64 when --out or --summary-json cannot be written.
    """
    try:
        check_output_paths(out_file, summary_json)
        result = _make_plan(output, directory, env, _selection(prune, targets, excludes))
    except ReconcileError as e:
        return fail(e)
    plan = result.plan
    print_warnings(output, result.catalog_warnings)
    print_plan(output, plan, fmt, plan.safety_report(result.settings.safety))
    warn_if_nothing_selected(output, plan)
    try:  # after printing: an unwritable path must not cost the reader the plan
        _save_plan(output, result, out_file, summary_json)
    except ReconcileError as e:
        return fail(e)
    return EXIT_CHANGES if detailed_exitcode and plan.has_changes else EXIT_OK


def _save_plan(
    output: Output,
    result: PlanResult,
    out_file: pathlib.Path | None,
    summary_json: pathlib.Path | None,
) -> None:
    """Write the plan (--out) and its summary (--summary-json) where they were asked for."""
    from reconcile.engine import apply_plan_command
    from reconcile.plan.render import render_summary_json

    plan, directory = result.plan, result.directory
    if out_file is not None:
        write_output(out_file, plan.to_json(), "the plan")
        default = plan.environment == result.settings.default_environment
        command = apply_plan_command(directory, None if default else plan.environment, out_file)
        output.note(f"Saved the plan to {out_file}; apply it with `{command}`.")
    if summary_json is not None:
        summary = json.dumps(render_summary_json(plan, result.settings.safety), indent=2)
        write_output(summary_json, summary, "the plan summary")


@click.command("apply")
@dir_argument()
@env_option()
@click.option(
    "--plan",
    "plan_file",
    type=click.Path(dir_okay=False, path_type=pathlib.Path),
    metavar="FILE",
    help="apply exactly this saved plan (from `plan --out`), if PB still matches it",
)
@click.option("--auto-approve", is_flag=True, help="apply without asking for confirmation")
@click.option("--force", is_flag=True, help="apply even if the plan breaks a safety threshold")
@click.option(
    "--summary-json",
    type=click.Path(dir_okay=False, path_type=pathlib.Path),
    metavar="FILE",
    help="write every resource's outcome, the counts and the exit code as JSON, for CI",
)
@selection_options
@click.pass_obj
def apply_command(
    output: Output,
    *,
    directory: pathlib.Path,
    env: str | None,
    plan_file: pathlib.Path | None,
    auto_approve: bool,
    force: bool,
    summary_json: pathlib.Path | None,
    prune: bool | None,
    targets: tuple[str, ...],
    excludes: tuple[str, ...],
) -> int:
    """Make PB match the catalog in DIRECTORY (or apply a saved plan with --plan).

    Without --plan: plans, shows the plan, checks safety and asks for confirmation.
    Exits 0 when done, 1 when the prompt is declined ("Apply cancelled."), 5 when some
    changes failed (run apply again to finish), 6 for an unsafe plan, 7 for a stale saved
    plan or when PB changed while the prompt waited.
    """
    try:
        check_output_paths(None, summary_json)
    except ReconcileError as e:
        return fail(e)
    state = _ApplyState()
    try:
        code, outcome = _apply(
            output,
            state,
            directory=directory,
            env=env,
            plan_file=plan_file,
            auto_approve=auto_approve,
            force=force,
            selection=_selection(prune, targets, excludes),
        )
        error = None
    except ApplyCancelled:
        output.err.print("Apply cancelled.")
        code, outcome, error = EXIT_ERROR, "cancelled", "declined at the prompt"
    except ReconcileError as e:
        code, error = fail(e), str(e)
        outcome = "refused" if isinstance(e, UnsafePlan | StalePlan | UsageError) else "error"
    if summary_json is None:
        return code
    return _write_apply_summary(summary_json, state, code, outcome, error)


def _write_apply_summary(
    path: pathlib.Path, state: _ApplyState, code: int, outcome: Any, error: str | None
) -> int:
    """Write ``apply --summary-json``; the exit code stays the apply's unless it was 0."""
    from reconcile.remote.report import ApplySummary

    plan = state.plan
    where = (plan.environment, plan.client_id, plan.fingerprint()) if plan else (None,) * 3
    summary = ApplySummary.of_report(
        state.report, outcome=outcome, exit_code=code, where=where, error=error
    )
    try:
        write_output(path, summary.model_dump_json(indent=2), "the apply summary")
    except ReconcileError as e:
        return fail(e) if code == EXIT_OK else code
    return code


class ApplyCancelled(ReconcileError):
    """The prompt was declined: nothing written, exit 1 (as Terraform's "Apply cancelled")."""


@dataclass
class _ApplyState:
    """What an apply got to, for its --summary-json whatever happens."""

    plan: Plan | None = None
    report: ApplyReport | None = None


def _apply(
    output: Output,
    state: _ApplyState,
    *,
    directory: pathlib.Path,
    env: str | None,
    plan_file: pathlib.Path | None,
    auto_approve: bool,
    force: bool,
    selection: dict[str, Any],
) -> tuple[int, Outcome]:
    """Apply a saved plan or a new one; the exit code and the outcome of the run."""
    from reconcile.engine import apply_plan_command

    if plan_file is not None:
        if any(v not in (None, ()) for v in selection.values()):
            raise UsageError(
                "--prune, --target and --exclude shape a new plan; a saved plan is applied "
                "as reviewed. Pass them to `reconcile plan --out FILE` instead"
            )
        state.report = _apply_saved(output, state, directory, env, plan_file, force=force)
        again = f"run `{apply_plan_command(directory, env, plan_file)}` again"
    else:
        again = "run apply again"
        state.report = _plan_and_apply(
            output, state, directory, env, selection, auto_approve=auto_approve, force=force
        )
    report = state.report
    if report is None:
        return EXIT_OK, "no changes"
    print_apply_report(output, report, again)
    if report.interrupted:
        return EXIT_INTERRUPTED, "interrupted"
    return (EXIT_OK, "applied") if report.succeeded else (EXIT_APPLY_FAILED, "partly failed")


def _apply_saved(
    output: Output,
    state: _ApplyState,
    directory: pathlib.Path,
    env: str | None,
    plan_file: pathlib.Path,
    *,
    force: bool,
) -> ApplyReport:
    from reconcile import engine

    plan = state.plan = _read_plan(plan_file)
    return run_with_progress(
        output,
        lambda progress: engine.apply_saved_plan(
            directory, plan, env=env, force=force, progress=progress
        ),
        term_interrupts=True,
    )


def _plan_and_apply(
    output: Output,
    state: _ApplyState,
    directory: pathlib.Path,
    env: str | None,
    selection: dict[str, Any],
    *,
    auto_approve: bool,
    force: bool,
) -> ApplyReport | None:
    from reconcile import engine

    engine.refuse_unreviewed_apply(directory, env)
    if not auto_approve and not sys.stdin.isatty():
        raise UsageError(
            "refusing to ask for confirmation: stdin is not a terminal. "
            "Pass --auto-approve to apply without asking, or save a plan and apply it with --plan"
        )
    result = _make_plan(output, directory, env, selection)
    plan = state.plan = result.plan
    print_warnings(output, result.catalog_warnings)
    print_plan(output, plan, "text", plan.safety_report(result.settings.safety))
    warn_if_nothing_selected(output, plan)
    if not plan.has_changes:
        return None
    engine.refuse_if_unsafe(result, force=force)
    if not auto_approve and not click.confirm("Apply these changes?", default=False):
        raise ApplyCancelled("Apply cancelled.")
    # A human may have sat at the prompt for hours: re-check PB before writing. With
    # --auto-approve the plan is moments old, and the re-read is skipped.
    return run_with_progress(
        output,
        lambda progress: engine.apply_planned(result, recheck=not auto_approve, progress=progress),
        term_interrupts=True,
    )


def _selection(
    prune: bool | None, targets: tuple[str, ...], excludes: tuple[str, ...]
) -> dict[str, Any]:
    return {"prune": prune, "targets": targets, "excludes": excludes}


def _make_plan(
    output: Output, directory: pathlib.Path, env: str | None, selection: dict[str, Any]
) -> PlanResult:
    from reconcile import engine

    return run_with_progress(
        output,
        lambda progress: engine.make_plan(directory, env=env, progress=progress, **selection),
    )


def _read_plan(path: pathlib.Path) -> Plan:
    from reconcile.plan.plan import Plan as PlanModel

    try:
        data = path.read_bytes()
    except OSError as e:
        raise UsageError(f"cannot read the plan file {path}: {e.strerror}") from e
    return PlanModel.from_json(data, source=str(path))


@click.command("show")
@click.argument(
    "plan_file", metavar="FILE", type=click.Path(dir_okay=False, path_type=pathlib.Path)
)
@click.option("--format", "fmt", type=click.Choice(PLAN_FORMATS), default="text", show_default=True)
@click.pass_obj
def show_command(output: Output, plan_file: pathlib.Path, fmt: str) -> int:
    """Render a plan saved with `plan --out FILE` (text, markdown or JSON)."""
    try:
        plan = _read_plan(plan_file)
    except ReconcileError as e:
        return fail(e)
    print_plan(output, plan, fmt)
    return EXIT_OK
