"""The plan/apply cycle: plan, apply, show (the pipeline and its policy: reconcile.engine)."""

from __future__ import annotations

import json
import os
import pathlib
import sys
import tempfile
from typing import TYPE_CHECKING, Any

import click
from rich.text import Text

from reconcile.cli.console import (
    Output,
    fail,
    print_apply_report,
    print_plan,
    print_warnings,
    run_with_progress,
    safe,
    warn_if_nothing_selected,
)
from reconcile.cli.options import dir_argument, env_option, selection_options
from reconcile.errors import EXIT_APPLY_FAILED, EXIT_CHANGES, EXIT_OK, ReconcileError, UsageError

if TYPE_CHECKING:
    from reconcile.engine import PlanResult
    from reconcile.plan.plan import Plan
    from reconcile.remote.report import ApplyReport

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
        _check_output_paths(out_file, summary_json)
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
        _write_output(out_file, plan.to_json(), "the plan")
        default = plan.environment == result.settings.default_environment
        command = apply_plan_command(directory, None if default else plan.environment, out_file)
        output.err.print(Text(safe(f"Saved the plan to {out_file}; apply it with `{command}`.")))
    if summary_json is not None:
        summary = json.dumps(render_summary_json(plan, result.settings.safety), indent=2)
        _write_output(summary_json, summary, "the plan summary")


#: Never written by --out/--summary-json, existing or not: the catalog would load them.
CATALOG_SUFFIXES = (".yaml", ".yml")


def _check_output_paths(out_file: pathlib.Path | None, summary: pathlib.Path | None) -> None:
    """Refuse (64), before planning, output paths that would destroy something: the plan
    and the summary on one file, a YAML name, or an existing file reconcile did not write
    (anything but a JSON object with a ``format_version``, as plans and summaries are)."""
    named = [(p, option) for p, option in ((out_file, "--out"), (summary, "--summary-json")) if p]
    if len(named) == 2 and named[0][0].resolve() == named[1][0].resolve():
        raise UsageError(
            f"--out and --summary-json both name {named[0][0]}: the summary would replace "
            "the plan. Give them different files"
        )
    for path, option in named:
        if path.suffix.lower() in CATALOG_SUFFIXES:
            raise UsageError(
                f"{option} {path}: refusing to write JSON to a {path.suffix} file (the "
                "catalog would read it); name it .json"
            )
        if path.is_file() and not _written_by_reconcile(path):
            raise UsageError(
                f"{option} {path}: the file exists and is not a reconcile plan or summary; "
                "refusing to overwrite it. Remove it or choose another path"
            )


def _written_by_reconcile(path: pathlib.Path) -> bool:
    """A JSON object with a ``format_version``: a plan or summary this tool wrote."""
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and "format_version" in data


def _write_output(path: pathlib.Path, text: str, what: str) -> None:
    """Write a file the user named; failing to is a usage error (64) naming it."""
    try:
        _write_atomically(path, text)
    except OSError as e:
        raise UsageError(f"cannot write {what} to {path}: {e.strerror or e}") from e


def _write_atomically(path: pathlib.Path, text: str) -> None:
    """Write via a temporary file and a rename: a reader never sees half a plan."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(temp, path)
    except BaseException:
        pathlib.Path(temp).unlink(missing_ok=True)
        raise


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
    prune: bool | None,
    targets: tuple[str, ...],
    excludes: tuple[str, ...],
) -> int:
    """Make PB match the catalog in DIRECTORY (or apply a saved plan with --plan).

    Without --plan: plans, shows the plan, checks safety and asks for confirmation.
    Exits 0 when done, 5 when some changes failed (run apply again to finish), 6 for an
    unsafe plan, 7 for a stale saved plan or when PB changed while the prompt waited.
    """
    from reconcile.engine import apply_plan_command

    report: ApplyReport | None
    try:
        if plan_file is not None:
            if prune is not None or targets or excludes:
                raise UsageError(
                    "--prune, --target and --exclude shape a new plan; a saved plan is applied "
                    "as reviewed. Pass them to `reconcile plan --out FILE` instead"
                )
            report = _apply_saved(output, directory, env, plan_file, force)
            again = f"run `{apply_plan_command(directory, env, plan_file)}` again"
        else:
            again = "run apply again"
            selection = _selection(prune, targets, excludes)
            report = _plan_and_apply(
                output, directory, env, selection, auto_approve=auto_approve, force=force
            )
    except ReconcileError as e:
        return fail(e)
    if report is None:
        return EXIT_OK
    print_apply_report(output, report, again)
    if report.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_OK if report.succeeded else EXIT_APPLY_FAILED


def _apply_saved(
    output: Output, directory: pathlib.Path, env: str | None, plan_file: pathlib.Path, force: bool
) -> ApplyReport:
    from reconcile import engine

    plan = _read_plan(plan_file)
    return run_with_progress(
        output,
        lambda progress: engine.apply_saved_plan(
            directory, plan, env=env, force=force, progress=progress
        ),
        term_interrupts=True,
    )


def _plan_and_apply(
    output: Output,
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
    plan = result.plan
    print_warnings(output, result.catalog_warnings)
    print_plan(output, plan, "text", plan.safety_report(result.settings.safety))
    warn_if_nothing_selected(output, plan)
    if not plan.has_changes:
        return None
    engine.refuse_if_unsafe(result, force=force)
    if not auto_approve and not click.confirm("Apply these changes?", default=False):
        output.err.print("Apply cancelled; nothing was changed.")
        return None
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
