"""Command-line interface: parse options, call the engine, print, choose the exit code.

The only module that prints. Commands return an exit code; ``main`` maps click's own
usage errors to 64 (EX_USAGE) because 2 means "changes present" here.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import pathlib
import shlex
import sys
import tempfile
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

import click
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from reconcile import __version__
from reconcile.errors import (
    EXIT_APPLY_FAILED,
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_INVALID,
    EXIT_OK,
    EXIT_USAGE,
    CatalogError,
    Problem,
    ReconcileError,
    UsageError,
)

if TYPE_CHECKING:
    from reconcile.engine import PlanResult
    from reconcile.importing import ImportResult
    from reconcile.plan.plan import Plan
    from reconcile.remote.apply import ApplyReport

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

CONTEXT_SETTINGS: dict[str, Any] = {
    "help_option_names": ["-h", "--help"],
    "max_content_width": 100,
}


#: The width tables get when output is not a terminal (a CI log, a file) and COLUMNS is
#: unset: rich would otherwise assume 80 and fold commands and messages mid-word.
PIPE_WIDTH = 200


@dataclass
class Output:
    """Where commands print: plans and reports on stdout, progress and diagnostics on
    stderr. Colour follows --no-color, NO_COLOR and whether the stream is a terminal.

    Prose lines are never wrapped (soft wrap: a terminal folds them itself, a CI log keeps
    them whole); tables fit a terminal's width, else COLUMNS, else ``PIPE_WIDTH``.
    """

    color: bool = True
    quiet: bool = False

    @cached_property
    def out(self) -> Console:
        return self._console(stderr=False)

    @cached_property
    def err(self) -> Console:
        return self._console(stderr=True)

    def _console(self, *, stderr: bool) -> Console:
        console = Console(stderr=stderr, highlight=False, no_color=not self.color, soft_wrap=True)
        if not console.is_terminal and not os.environ.get("COLUMNS"):
            console.width = PIPE_WIDTH
        return console


class SafeFormatter(logging.Formatter):
    """Log lines with control characters and bidi overrides escaped (see ``safe``)."""

    def format(self, record: logging.LogRecord) -> str:
        return safe(super().format(record))


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, prog_name="reconcile")
@click.option("--no-color", is_flag=True, help="no colours (also: the NO_COLOR variable)")
@click.option("-v", "--verbose", count=True, help="log what happens on stderr (-vv: debug)")
@click.option("-q", "--quiet", is_flag=True, help="no progress or notes on stderr")
@click.pass_context
def cli(ctx: click.Context, no_color: bool, verbose: int, quiet: bool) -> None:
    """Catalog-as-code for the Pitney Bowes Fulfillment APIs."""
    color = not no_color and not os.environ.get("NO_COLOR")
    ctx.obj = Output(color=color, quiet=quiet)
    if verbose:
        level = logging.DEBUG if verbose > 1 else logging.INFO
        handler: logging.Handler
        if ctx.obj.err.is_terminal:
            handler = RichHandler(console=ctx.obj.err, show_path=False)
            handler.setFormatter(SafeFormatter("%(message)s"))
        else:  # a CI log: one unwrapped line per record
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(SafeFormatter("%(asctime)s %(levelname)-7s %(message)s"))
        logging.basicConfig(level=level, handlers=[handler], force=True)
        # The client keeps httpx's per-request lines quiet by default; -v shows them (URLs
        # and statuses only: httpx never logs headers, so no token).
        logging.getLogger("httpx").setLevel(level)


def fail(error: ReconcileError) -> int:
    """Report an expected error on stderr and return its exit code."""
    click.echo(f"Error: {safe(str(error))}", err=True)
    return error.exit_code


def safe(text: str) -> str:
    """Text for the terminal: control characters and bidi overrides (from SKUs, paths,
    PB's messages) shown escaped, never acted on; line breaks kept."""
    from reconcile.plan.render import printable

    return printable(text, newlines=True)


# ---- commands are registered below, one section per command ----


# ---- validate (catalog language: reconcile.desired) ----

PROBLEM_FORMATS = ("text", "github")


def _github_escape(text: str, *, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def github_annotation(problem: Problem) -> str:
    """A GitHub Actions workflow command that annotates the file at the problem's line."""
    kind = "warning" if problem.severity == "warning" else "error"
    props = [f"file={_github_escape(problem.path, prop=True)}"]
    if problem.line:
        props += [f"line={problem.line}", f"col={problem.col}"]
    props.append("title=reconcile validate")
    return f"::{kind} {','.join(props)}::{_github_escape(problem.message)}"


def report_problems(problems: Sequence[Problem], output_format: str | None = None) -> None:
    """Print catalog problems, one `path:line:col: message` a line (plus annotations in CI)."""
    if output_format is None:
        output_format = "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"
    for problem in problems:
        click.echo(safe(str(problem)))
    if output_format == "github":
        for problem in problems:
            click.echo(safe(github_annotation(problem)))


def _problem_summary(problems: Sequence[Problem]) -> str:
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    return f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"


@cli.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False, path_type=pathlib.Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(PROBLEM_FORMATS),
    default=None,
    help="text, or github for workflow annotations as well (default when GITHUB_ACTIONS=true)",
)
def validate(directory: pathlib.Path, output_format: str | None) -> int:
    """Check the catalog in DIRECTORY offline; report every problem at file:line:col.

    Exits 0 when the catalog is valid (warnings are printed), 3 when it is not.
    """
    from reconcile.desired import load_catalog

    try:
        catalog = load_catalog(directory)
    except CatalogError as e:
        report_problems(e.problems, output_format)
        click.echo(f"invalid catalog: {_problem_summary(e.problems)}", err=True)
        return e.exit_code
    report_problems(catalog.problems, output_format)
    resources = catalog.resources
    click.echo(
        f"valid catalog: {len(resources.products)} products, {len(resources.boms)} BOMs "
        f"in {len(catalog.files)} files for client {catalog.client_id} "
        f"({_problem_summary(catalog.problems)})",
        err=True,
    )
    return EXIT_OK


# ---- fmt (canonical layout of catalog files: reconcile.desired.fmt) ----


@cli.command("fmt")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=pathlib.Path))
@click.option("--check", is_flag=True, help="change nothing; exit 1 if a file would change")
@click.option("--diff", "show_diff", is_flag=True, help="print a unified diff of each change")
def fmt_command(paths: tuple[pathlib.Path, ...], check: bool, show_diff: bool) -> int:
    """Rewrite catalog files (default: the catalog in the current directory) canonically.

    Keys in the documented order, mappings indented 2, list dashes offset 2; comments
    and the schema modeline are kept. With --check, exits 1 when a file would change
    (like black and ruff). Exits 3 when a file does not read cleanly (syntax error,
    duplicate key, anchor, tag, too deep, not UTF-8, not products/boms); such files are
    left alone. Only catalog files are touched: exits 64, changing nothing, when a path
    is not in a catalog (no reconcile.yaml at or above it) or a file is not *.yaml/*.yml.
    """
    from reconcile.desired import format_files

    try:
        result = format_files(list(paths) or [pathlib.Path()], check=check)
    except UsageError as e:
        return fail(e)
    for path in result.changed:
        if show_diff:
            click.echo(result.diffs[path], nl=False)
        verb = "would reformat" if check else "reformatted"
        click.echo(f"{verb} {path}", err=True)
    report_problems(result.problems, "text")
    if result.problems:
        return EXIT_INVALID
    return 1 if (check and result.changed) else EXIT_OK


# ---- schemas (JSON Schemas for editors: reconcile.desired.schema) ----


def schema_documents() -> list[tuple[str, dict[str, Any]]]:
    """Every JSON Schema the tool publishes, as (file name, schema); append new ones here."""
    from reconcile.desired import schema_documents as catalog_documents
    from reconcile.plan.plan import Plan

    return [*catalog_documents(), ("plan.schema.json", Plan.json_schema())]


@cli.command()
@click.option(
    "--out",
    "out_dir",
    default="schemas",
    show_default=True,
    type=click.Path(file_okay=False, path_type=pathlib.Path),
    help="directory to write the *.schema.json files into",
)
def schemas(out_dir: pathlib.Path) -> int:
    """Write the JSON Schemas of catalog files, reconcile.yaml and saved plans.

    Exits 64 when --out cannot be created or written (the message says why).
    """
    from reconcile.desired import write_schemas

    try:
        written = write_schemas(out_dir, schema_documents())
    except OSError as e:
        return fail(UsageError(f"cannot write schemas to {out_dir}: {e.strerror or e}"))
    for path in written:
        click.echo(f"wrote {path}")
    return EXIT_OK


# ---- completion (shell completion scripts through click) ----

COMPLETION_SHELLS = ("bash", "zsh", "fish")
COMPLETE_VAR = "_RECONCILE_COMPLETE"


def complete_environment(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[click.shell_completion.CompletionItem]:
    """`--env` values: the environments of the catalog named on the command line (or the
    current directory), built-in ones included. Never fails: a bad catalog offers those."""
    from click.shell_completion import CompletionItem

    from reconcile.desired import load_settings
    from reconcile.settings import SETTINGS_FILE, Settings

    # click stops parsing at the dangling `--env`, so the catalog argument may be missing
    # from ctx.params; the words of the line (COMP_WORDS, set by every completion script)
    # still hold it.
    words = os.environ.get("COMP_WORDS", "").split()[1:]
    words.append(str(ctx.params.get("directory") or ctx.params.get("source_dir") or ""))
    catalogs = [w for w in words if w and (pathlib.Path(w) / SETTINGS_FILE).is_file()]
    try:
        settings = load_settings(pathlib.Path(catalogs[0] if catalogs else "."))
    except (ReconcileError, OSError):
        settings = Settings()
    names = sorted(settings.all_environments())
    return [CompletionItem(name) for name in names if name.startswith(incomplete)]


@cli.command()
@click.argument("shell", type=click.Choice(COMPLETION_SHELLS))
def completion(shell: str) -> int:
    """Print the completion script for SHELL (bash, zsh or fish).

    \b
    Load it once in the current shell:
      bash:  eval "$(reconcile completion bash)"
      zsh:   eval "$(reconcile completion zsh)"
      fish:  reconcile completion fish | source
    or save it where your shell loads completions, e.g.
      reconcile completion bash > ~/.local/share/bash-completion/completions/reconcile
      reconcile completion zsh > "${fpath[1]}/_reconcile"
      reconcile completion fish > ~/.config/fish/completions/reconcile.fish
    The script is the same as click's `_RECONCILE_COMPLETE=bash_source reconcile`.
    """
    from click.shell_completion import get_completion_class

    completer_class = get_completion_class(shell)
    if completer_class is None:  # unreachable: click.Choice limits SHELL to known shells
        raise click.BadParameter(f"unsupported shell {shell!r}")
    completer = completer_class(cli, {}, "reconcile", COMPLETE_VAR)
    click.echo(completer.source())
    return 0


# ---- plan, apply, show (the engine: reconcile.engine) ----

PLAN_FORMATS = ("text", "markdown", "json")
EXIT_INTERRUPTED = 130


class RichProgress:
    """The engine's ``Progress`` as rich bars on stderr: only on a terminal, never with -q."""

    def __init__(self, console: Console, *, bars: bool, notes: bool) -> None:
        self.console = console
        self.notes = notes
        self.bars = Progress(
            TextColumn("{task.description:>16}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not bars,
        )
        self.tasks: dict[str, TaskID] = {}

    def __enter__(self) -> RichProgress:
        self.bars.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bars.stop()

    def update(self, task: str, *, advance: int = 0, total: int | None = None) -> None:
        if task not in self.tasks:
            self.tasks[task] = self.bars.add_task(task, total=total)
        self.bars.update(self.tasks[task], advance=advance, total=total)

    def done(self, task: str) -> None:
        if task in self.tasks:
            self.bars.update(self.tasks[task], visible=False)

    def note(self, message: str) -> None:
        if self.notes:
            self.console.print(Text(safe(message), style="dim"))


def _run(
    output: Output,
    work: Callable[[RichProgress], Coroutine[Any, Any, T]],
    *,
    term_interrupts: bool = False,
) -> T:
    """Run one engine coroutine with progress on stderr.

    With ``term_interrupts`` (an apply), SIGTERM (a cancelled CI job) interrupts the work
    like Ctrl-C: the task is cancelled, writes in flight finish and the report follows.
    """
    with RichProgress(
        output.err, bars=output.err.is_terminal and not output.quiet, notes=not output.quiet
    ) as progress:
        if term_interrupts:
            return asyncio.run(_cancelled_by_sigterm(work(progress)))
        return asyncio.run(work(progress))


async def _cancelled_by_sigterm(work: Coroutine[Any, Any, T]) -> T:
    """Await ``work`` with SIGTERM cancelling it, once: a second SIGTERM ends the process
    at once (the default action), as a second Ctrl-C does."""
    import signal

    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    terminated = False

    def interrupt() -> None:
        nonlocal terminated
        terminated = True
        loop.remove_signal_handler(signal.SIGTERM)
        if task is not None:
            task.cancel()

    try:
        loop.add_signal_handler(signal.SIGTERM, interrupt)
    except (NotImplementedError, RuntimeError):  # no loop signal handlers (Windows, a thread)
        return await work
    try:
        return await work
    except asyncio.CancelledError:
        if terminated:  # stopped before any write started: "Interrupted." (130)
            raise KeyboardInterrupt from None
        raise
    finally:
        loop.remove_signal_handler(signal.SIGTERM)


def _dir_argument() -> Callable[[F], F]:
    return click.argument(
        "directory", default=".", type=click.Path(file_okay=False, path_type=pathlib.Path)
    )


def _env_option() -> Callable[[F], F]:
    return click.option(
        "--env",
        "env",
        metavar="NAME",
        help="environment from reconcile.yaml (default: its default)",
        shell_complete=complete_environment,
    )


def _selection_options(command: F) -> F:
    command = click.option(
        "--exclude",
        "excludes",
        multiple=True,
        metavar="GLOB",
        help="leave out resources whose address or SKU matches (repeatable)",
    )(command)
    command = click.option(
        "--target",
        "targets",
        multiple=True,
        metavar="GLOB",
        help="plan only resources whose address or SKU matches, e.g. 'KIT-*' (repeatable)",
    )(command)
    return click.option(
        "--prune/--no-prune",
        default=None,
        help="deactivate remote resources the catalog does not declare (default: reconcile.yaml)",
    )(command)


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


def _print_plan(output: Output, plan: Plan, fmt: str, violations: Sequence[str] = ()) -> None:
    from reconcile.plan.render import render_markdown, render_text

    if fmt == "json":
        click.echo(plan.to_json(), nl=False)
    elif fmt == "markdown":
        click.echo(render_markdown(plan, violations=violations))
    else:
        output.out.print(render_text(plan, color=output.color, violations=violations))


def _print_warnings(output: Output, problems: Sequence[Problem]) -> None:
    for problem in problems:
        output.err.print(Text(safe(str(problem)), style="yellow"))


def _warn_if_nothing_selected(output: Output, plan: Plan) -> None:
    """A --target/--exclude that selects nothing (a typo in a CI job?) is said on stderr."""
    from reconcile.plan.render import matched_nothing, selection_options

    if matched_nothing(plan):
        output.err.print(
            Text(
                safe(
                    f"warning: no resource matched {selection_options(plan)}; nothing was "
                    "planned. Globs match addresses (product.SKU, bom.SKU@NODE) or bare SKUs "
                    "and are case-sensitive"
                ),
                style="yellow",
            )
        )


@cli.command("plan")
@_dir_argument()
@_env_option()
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
@_selection_options
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
    from reconcile.plan.render import render_summary_json

    try:
        _check_output_paths(out_file, summary_json)
        result = _make_plan(output, directory, env, _selection(prune, targets, excludes))
    except ReconcileError as e:
        return fail(e)
    plan, safety = result.plan, result.settings.safety
    env_name = plan.environment
    _print_warnings(output, result.catalog_warnings)
    _print_plan(output, plan, fmt, plan.safety_report(safety))
    _warn_if_nothing_selected(output, plan)
    try:  # after printing: an unwritable path must not cost the reader the plan
        if out_file is not None:
            _write_output(out_file, plan.to_json(), "the plan")
            default = env_name == result.settings.default_environment
            command = apply_plan_command(directory, None if default else env_name, out_file)
            output.err.print(
                Text(safe(f"Saved the plan to {out_file}; apply it with `{command}`."))
            )
        if summary_json is not None:
            summary = json.dumps(render_summary_json(plan, safety), indent=2)
            _write_output(summary_json, summary, "the plan summary")
    except ReconcileError as e:
        return fail(e)
    return EXIT_CHANGES if detailed_exitcode and plan.has_changes else EXIT_OK


def apply_plan_command(directory: pathlib.Path, env: str | None, plan_file: pathlib.Path) -> str:
    """The shell command that applies a saved plan (``--env`` only when given), quoted
    so that it can be pasted whatever the paths hold."""
    words = ["reconcile", "apply", str(directory)]
    if env is not None:
        words += ["--env", env]
    return shlex.join([*words, "--plan", str(plan_file)])


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


@cli.command("apply")
@_dir_argument()
@_env_option()
@click.option(
    "--plan",
    "plan_file",
    type=click.Path(dir_okay=False, path_type=pathlib.Path),
    metavar="FILE",
    help="apply exactly this saved plan (from `plan --out`), if PB still matches it",
)
@click.option("--auto-approve", is_flag=True, help="apply without asking for confirmation")
@click.option("--force", is_flag=True, help="apply even if the plan breaks a safety threshold")
@_selection_options
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
    _print_report(output, report, again)
    if report.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_OK if report.succeeded else EXIT_APPLY_FAILED


def _apply_saved(
    output: Output, directory: pathlib.Path, env: str | None, plan_file: pathlib.Path, force: bool
) -> ApplyReport:
    from reconcile import engine

    plan = _read_plan(plan_file)
    return _run(
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

    env_name, environment = engine.environment_of(directory, env)
    if environment.require_plan_file:
        raise UsageError(
            f"environment {env_name!r} applies only reviewed plans (require_plan_file: true). "
            f"Run `{shlex.join(['reconcile', 'plan', str(directory), '--env', env_name])} "
            f"--out plan.json`, review it, then "
            f"`{apply_plan_command(directory, env_name, pathlib.Path('plan.json'))}`"
        )
    if not auto_approve and not sys.stdin.isatty():
        raise UsageError(
            "refusing to ask for confirmation: stdin is not a terminal. "
            "Pass --auto-approve to apply without asking, or save a plan and apply it with --plan"
        )
    result = _make_plan(output, directory, env, selection)
    plan = result.plan
    _print_warnings(output, result.catalog_warnings)
    _print_plan(output, plan, "text", plan.safety_report(result.settings.safety))
    _warn_if_nothing_selected(output, plan)
    if not plan.has_changes:
        return None
    if not force:
        plan.raise_if_unsafe(result.settings.safety)
    if not auto_approve and not click.confirm("Apply these changes?", default=False):
        output.err.print("Apply cancelled; nothing was changed.")
        return None
    # A human may have sat at the prompt for hours: re-check PB before writing. With
    # --auto-approve the plan is moments old, and the re-read is skipped.
    return _run(
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

    return _run(
        output,
        lambda progress: engine.make_plan(directory, env=env, progress=progress, **selection),
    )


def _print_report(output: Output, report: ApplyReport, again: str) -> None:
    """The changes not done as a table, then one line; ``again`` says how to finish."""
    counts = report.counts()
    problems = [r for r in report.results if r.status != "done"]
    if problems:
        table = Table(title="Changes not applied", title_justify="left", show_lines=False)
        for column in ("resource", "action", "result", "why", "transaction id"):
            table.add_column(column, overflow="fold")
        for r in problems:
            style = "red" if r.status == "failed" else "yellow"
            table.add_row(
                safe(r.address),
                r.action,
                Text(r.status, style=style),
                safe(r.message),
                safe(r.transaction_id),
            )
        output.out.print(table)
    again = safe(again)
    words = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
    if report.already_applied:  # "3 done" → "3 done (2 already applied)"
        done = f"{counts['done']} done"
        words = words.replace(done, f"{done} ({report.already_applied} already applied)", 1)
    if report.interrupted:
        output.out.print(
            Text(f"Apply interrupted: {words}. To finish, {again}.", style="bold yellow")
        )
    elif problems:
        output.out.print(
            Text(
                f"Apply partly failed: {words}. Fix the causes above and {again}; "
                "it skips what is already applied and picks up where this run stopped.",
                style="bold red",
            )
        )
    else:
        output.out.print(Text(f"Apply complete: {words or 'nothing to do'}.", style="bold green"))


def _read_plan(path: pathlib.Path) -> Plan:
    from reconcile.plan.plan import Plan as PlanModel

    try:
        data = path.read_bytes()
    except OSError as e:
        raise UsageError(f"cannot read the plan file {path}: {e.strerror}") from e
    return PlanModel.from_json(data, source=str(path))


@cli.command("show")
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
    _print_plan(output, plan, fmt)
    return EXIT_OK


# ---- import (adopt an existing PB catalog: reconcile.importing) ----


@cli.command("import")
@click.option(
    "--env",
    "env",
    metavar="NAME",
    help="environment to read from (default: the default of the --from catalog, else local)",
    shell_complete=complete_environment,
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    metavar="DIR",
    type=click.Path(path_type=pathlib.Path),
    help="new catalog directory to write (must be empty unless --force)",
)
@click.option(
    "--client-id", metavar="ID", help="PB client to import (default: client_id of --from)"
)
@click.option(
    "--from",
    "source_dir",
    default=".",
    show_default=True,
    metavar="DIR",
    type=click.Path(file_okay=False, path_type=pathlib.Path),
    help="catalog whose reconcile.yaml (environments, limits, client_id) and, for local, "
    "sandbox are used",
)
@click.option("--include-inactive", is_flag=True, help="also import inactive products and BOMs")
@click.option(
    "--split-by",
    type=click.Choice(("productType", "none")),
    default="productType",
    show_default=True,
    help="items.yaml, kits.yaml and boms.yaml; or (none) products.yaml and boms.yaml",
)
@click.option(
    "--target",
    "targets",
    multiple=True,
    metavar="GLOB",
    help="import only resources whose address or SKU matches, e.g. 'KIT-*' (repeatable)",
)
@click.option(
    "--force",
    is_flag=True,
    help="write into a non-empty --out, replacing only its catalog files (listed)",
)
@click.pass_obj
def import_command(
    output: Output,
    *,
    env: str | None,
    out_dir: pathlib.Path,
    client_id: str | None,
    source_dir: pathlib.Path,
    include_inactive: bool,
    split_by: str,
    targets: tuple[str, ...],
    force: bool,
) -> int:
    """Write what PB holds for a client as a new catalog directory (--out DIR).

    Reads every product (old ones included) and BOM of the client, and writes
    reconcile.yaml plus YAML files in the canonical `fmt` layout. `reconcile plan DIR`
    on the result shows no changes. Inactive products and BOMs are left out unless
    --include-inactive (inactive products a BOM names are always kept).

    --force writes into a non-empty --out: it removes only catalog files there (YAML of
    only `products:`/`boms:`, or written by import), lists them, and keeps an existing
    reconcile.yaml as it is when it names the same client and environment (else exit 64).

    Exits 0 when written, 4 when PB cannot be read, 64 when --out is not empty (see
    --force) or its reconcile.yaml is for another client or environment.
    """
    from reconcile.importing import ImportOptions, import_catalog

    options = ImportOptions(
        env=env,
        client_id=client_id,
        source_dir=source_dir,
        include_inactive=include_inactive,
        split_by="none" if split_by == "none" else "productType",
        targets=targets,
        force=force,
    )
    try:
        result = _run(output, lambda progress: import_catalog(out_dir, options, progress=progress))
    except ReconcileError as e:
        return fail(e)
    _print_import_report(output, result)
    return EXIT_OK


def _print_import_report(output: Output, result: ImportResult) -> None:
    skipped = result.skipped_inactive_products + result.skipped_inactive_boms
    lines = [
        f"Imported {result.products} products and {result.boms} BOMs of client "
        f"{result.client_id!r} from {result.environment} into {result.directory} "
        f"({len(result.files)} files, {result.requests} requests).",
    ]
    if not (result.products or result.boms or skipped or result.not_targeted):
        lines.append(
            f"PB holds nothing for client {result.client_id!r} in {result.environment}; "
            "check --client-id and --env."
        )
    if skipped:
        lines.append(
            f"Left out {result.skipped_inactive_products} inactive products and "
            f"{result.skipped_inactive_boms} inactive BOMs (--include-inactive imports them)."
        )
    if result.kept_for_references:
        lines.append(
            f"Kept {len(result.kept_for_references)} inactive products that imported BOMs "
            f"name: {', '.join(result.kept_for_references[:5])}"
            + (" …" if len(result.kept_for_references) > 5 else "")
        )
    if result.not_targeted:
        lines.append(f"{result.not_targeted} resources did not match --target.")
    if result.unreadable:
        lines.append(
            f"Left out {len(result.unreadable)} objects reconcile cannot represent "
            "(plan leaves them alone too):"
        )
        lines.extend(f"  {entry}" for entry in result.unreadable)
    lines.extend(_forced_import_lines(result))
    if result.sandbox_file:
        lines.append(f"Copied the local sandbox state to {result.sandbox_file}.")
    lines.append(f"Next: commit {result.directory}, then `reconcile plan {result.directory}`.")
    for line in lines:
        output.err.print(Text(safe(line)), soft_wrap=True)


def _forced_import_lines(result: ImportResult) -> list[str]:
    """What `import --force` did to the files already in --out, one file per line."""
    lines = []
    for paths, what in ((result.removed, "Removed"), (result.replaced, "Replaced")):
        if paths:
            lines.append(f"{what} {len(paths)} catalog files of the previous content:")
            lines.extend(f"  {path}" for path in paths)
    if result.kept_settings is not None:
        settings = result.directory / "reconcile.yaml"
        lines.append(f"Kept {settings} as it was (same client and environment).")
        if result.kept_settings != result.environment:
            lines.append(
                f"Its default environment is {result.kept_settings!r}: plan the import with "
                f"--env {result.environment}."
            )
    if result.other_yaml:
        lines.append(
            f"Left {len(result.other_yaml)} YAML files that are not catalog files alone; plan "
            "reads every YAML file below the catalog, so move them out of it:"
        )
        lines.extend(f"  {path}" for path in result.other_yaml)
    return lines


# ---- sandbox serve (the local PB emulator: reconcile.sandbox) ----


@cli.group("sandbox")
def sandbox_group() -> None:
    """The local emulator of the PB Fulfillment API (for tests, demos and benchmarks)."""


@sandbox_group.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on")
@click.option(
    "--port", default=8765, show_default=True, type=click.IntRange(0, 65535), help="0: any free"
)
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=pathlib.Path),
    help="SQLite file to keep the data in (default: in memory, gone on exit)",
)
@click.option("--latency-ms", type=click.FloatRange(min=0), default=0.0, help="delay per request")
@click.option("--jitter-ms", type=click.FloatRange(min=0), default=0.0, help="extra random delay")
@click.option(
    "--fault-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    help="fraction of API requests answered 429/500/503 or dropped",
)
@click.option("--seed", type=int, help="seed for jitter and faults (reproducible runs)")
@click.option(
    "--page-max",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="largest page a search serves",
)
@click.option(
    "--token-ttl",
    type=click.IntRange(min=1),
    default=35999,
    show_default=True,
    help="seconds a token stays valid",
)
def sandbox_serve(
    *,
    host: str,
    port: int,
    db: pathlib.Path | None,
    latency_ms: float,
    jitter_ms: float,
    fault_rate: float,
    seed: int | None,
    page_max: int,
    token_ttl: int,
) -> int:
    """Serve the emulator over HTTP until Ctrl-C (credentials: PB_API_KEY/PB_API_SECRET).

    Exits 0 when stopped, 64 when --host, --port or --db cannot be used (not an address,
    port in use, not a sandbox database), 1 when the server does not start.
    """
    from reconcile.sandbox import SandboxConfig, Store, StoreError, create_app, serve_in_thread
    from reconcile.sandbox.server import ListenError, host_problem, is_loopback

    key, secret = os.environ.get("PB_API_KEY"), os.environ.get("PB_API_SECRET")
    if bool(key) != bool(secret):
        raise UsageError("set both PB_API_KEY and PB_API_SECRET, or neither (to generate them)")
    problem = host_problem(host)
    if problem:
        raise UsageError(f"--host: {problem}")
    config = SandboxConfig.generate(
        key=key,
        secret=secret,
        latency_ms=latency_ms,
        jitter_ms=jitter_ms,
        fault_rate=fault_rate,
        seed=seed,
        page_max=page_max,
        token_ttl=token_ttl,
    )
    try:
        store = Store(db or ":memory:")
    except StoreError as e:
        raise UsageError(f"--db {e.path}: {e.reason}") from None
    try:
        served = serve_in_thread(create_app(store, config), host, port)
    except ListenError as e:
        store.close()
        raise UsageError(str(e)) from None
    except RuntimeError as e:
        store.close()
        return fail(ReconcileError(str(e)))
    if not is_loopback(host):  # warned once listening: the address is known to be real
        click.echo(
            f"warning: listening on {host}, reachable from other machines; the sandbox has no"
            " TLS and accepts the credentials printed below",
            err=True,
        )
    try:
        _serve_until_stopped(
            served,
            lambda: _print_sandbox_banner(
                served.url, config.key, config.secret, db, from_env=bool(key)
            ),
        )
    finally:
        served.stop()
        store.close()
    click.echo("Sandbox stopped.", err=True)
    return EXIT_OK


def _print_sandbox_banner(
    url: str, key: str, secret: str, db: pathlib.Path | None, *, from_env: bool
) -> None:
    from reconcile.sandbox.config import API_PREFIX, TOKEN_PATH

    click.echo(f"Sandbox listening on {url}")
    click.echo(f"  API base:  {url}{API_PREFIX}")
    click.echo(f"  token URL: {url}{TOKEN_PATH}")
    click.echo(f"  data:      {db if db else 'in memory (gone on exit)'}")
    if from_env:
        click.echo("  credentials: from PB_API_KEY / PB_API_SECRET (not shown)")
    else:  # a local test server: showing its generated credentials is the point
        click.echo(f"  PB_API_KEY={key}")
        click.echo(f"  PB_API_SECRET={secret}")
    click.echo("Press Ctrl-C to stop.")


def _serve_until_stopped(served: Any, announce: Callable[[], None]) -> None:
    """Announce the server, then block until Ctrl-C, SIGTERM or the server thread ends.

    The handlers are in place before the announcement, so a client that reacts to it at
    once can never see the stop reported as an interruption.
    """
    import signal
    import threading

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        announce()
        while served.running and not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass


# ---- doctor (can this machine reach PB? reconcile.remote.doctor) ----

DOCTOR_STYLES = {"ok": "green", "failed": "bold red", "skipped": "yellow"}


@cli.command()
@_dir_argument()
@_env_option()
@click.pass_obj
def doctor(output: Output, directory: pathlib.Path, env: str | None) -> int:
    """Check settings, credentials, TLS, a token and one read-only search.

    Exits 0 when every check passes, 3 when reconcile.yaml is invalid, 4 when a remote
    check fails. Nothing is written to PB.
    """
    from reconcile.desired import load_settings
    from reconcile.remote.doctor import Check, exit_code, run_checks

    try:
        settings = load_settings(directory)
    except CatalogError as e:
        hint = _settings_hint(directory)
        _print_check(output, Check("settings", "failed", str(e), hint, e.exit_code))
        return e.exit_code
    _print_check(output, Check("settings", "ok", f"{directory / 'reconcile.yaml'} is valid"))
    checks = asyncio.run(run_checks(settings, env, catalog_dir=directory, environ=os.environ))
    for check in checks:
        _print_check(output, check)
    return exit_code(checks)


def _settings_hint(directory: pathlib.Path) -> str:
    """What to do when the settings cannot be read: the fix depends on what is missing."""
    from reconcile.settings import SETTINGS_FILE

    if not directory.is_dir():
        return "pass the catalog directory (the one holding reconcile.yaml); this path is not one"
    if not (directory / SETTINGS_FILE).is_file():
        return f"create {SETTINGS_FILE} there, or pass the catalog directory that holds it"
    return f"fix {SETTINGS_FILE}"


def _print_check(output: Output, check: Any) -> None:
    line = Text(f"{check.status:<8}", style=DOCTOR_STYLES[check.status])
    line.append(f"{check.name:<12}{safe(check.detail)}")
    output.out.print(line)
    if check.hint:
        output.out.print(Text(f"{'':<20}hint: {safe(check.hint)}", style="dim"))


def main(argv: list[str] | None = None) -> None:
    try:
        code = cli.main(args=argv, prog_name="reconcile", standalone_mode=False)
    except click.UsageError as e:
        e.show()
        sys.exit(EXIT_USAGE)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except ReconcileError as e:
        sys.exit(fail(e))
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except Exception as e:  # the last line of defence: a message, not a traceback
        click.echo(f"Unexpected error ({type(e).__name__}): {e}", err=True)
        click.echo("Please report this at the project's issue tracker.", err=True)
        sys.exit(EXIT_ERROR)
    sys.exit(code if isinstance(code, int) else 0)
