"""Where commands print: the consoles, safe text, progress bars, and the reports that
more than one command prints (plans, catalog warnings, apply results)."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

import click
from rich.console import Console
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

from reconcile.errors import Problem, ReconcileError

if TYPE_CHECKING:
    from reconcile.plan.plan import Plan
    from reconcile.remote.report import ApplyReport

T = TypeVar("T")

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


def fail(error: ReconcileError) -> int:
    """Report an expected error on stderr and return its exit code."""
    click.echo(f"Error: {safe(str(error))}", err=True)
    return error.exit_code


def safe(text: str) -> str:
    """Text for the terminal: control characters and bidi overrides (from SKUs, paths,
    PB's messages) shown escaped, never acted on; line breaks kept."""
    from reconcile.plan.render import printable

    return printable(text, newlines=True)


# ---- progress: the engine's long runs, with bars on a terminal ----


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


def run_with_progress(
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


# ---- reports: plans, warnings and apply results ----


def print_plan(output: Output, plan: Plan, fmt: str, violations: Sequence[str] = ()) -> None:
    from reconcile.plan.render import render_markdown, render_text

    if fmt == "json":
        click.echo(plan.to_json(), nl=False)
    elif fmt == "markdown":
        click.echo(render_markdown(plan, violations=violations))
    else:  # "full": every create field by field, however many
        text = render_text(plan, color=output.color, violations=violations, full=fmt == "full")
        output.out.print(text)


def print_warnings(output: Output, problems: Sequence[Problem]) -> None:
    for problem in problems:
        output.err.print(Text(safe(str(problem)), style="yellow"))


def warn_if_nothing_selected(output: Output, plan: Plan) -> None:
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


def print_apply_report(output: Output, report: ApplyReport, again: str) -> None:
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
