"""Where commands print: the consoles, safe text, progress bars, and the reports that
more than one command prints (plans, catalog warnings, apply results)."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

import click
from rich.console import Console
from rich.logging import RichHandler
from rich.padding import Padding
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
    from reconcile.remote.report import ApplyReport, ChangeResult

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
    verbose: int = 0

    def configure(
        self, *, color: bool | None = None, quiet: bool | None = None, verbose: int | None = None
    ) -> None:
        """Apply a global option, given before or after the command's name."""
        if color is not None and color != self.color:
            self.color = color
            for stream in ("out", "err"):  # made again, with the new colour
                self.__dict__.pop(stream, None)
        if quiet is not None:
            self.quiet = quiet
        if verbose is not None and verbose != self.verbose:
            self.verbose = verbose
            self._log_to_stderr(logging.DEBUG if verbose > 1 else logging.INFO)

    def _log_to_stderr(self, level: int) -> None:
        handler: logging.Handler
        if self.err.is_terminal:
            handler = RichHandler(console=self.err, show_path=False)
            handler.setFormatter(SafeFormatter("%(message)s"))
        else:  # a CI log: one unwrapped line per record
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(SafeFormatter("%(asctime)s %(levelname)-7s %(message)s"))
        logging.basicConfig(level=level, handlers=[handler], force=True)
        # The client keeps httpx2's per-request lines quiet by default; -v shows them (URLs
        # and statuses only: httpx2 never logs headers, so no token).
        logging.getLogger("httpx2").setLevel(level)

    def note(self, message: str) -> None:
        """A note on stderr (what was saved, where): silenced by -q."""
        if not self.quiet:
            self.err.print(Text(safe(message)))

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
        # Not started at all without bars: rich 14.0 prints a newline when a disabled
        # progress display stops (a stray line on stderr under -q).
        self.shown = bars

    def __enter__(self) -> RichProgress:
        if self.shown:
            self.bars.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.shown:
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


#: The narrowest "why" column worth a table; below it each change gets a block of lines.
MIN_WHY_WIDTH = 30
#: A rich table's borders and padding: 3 characters per column plus one.
TABLE_FRAME = 3 * 5 + 1


def print_apply_report(output: Output, report: ApplyReport, again: str) -> None:
    """The changes not done as a table, then one line; ``again`` says how to finish."""
    counts = report.counts()
    problems = [r for r in report.results if r.status != "done"]
    if problems:
        _print_problems(output.out, problems)
    for note in report.notes():
        output.out.print(f"{safe(note.address)}: {safe(note.message)}")
    again = safe(again)
    words = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
    if report.already_applied:  # "3 done" → "3 done (2 already applied)"
        done = f"{counts['done']} done"
        words = words.replace(done, f"{done} ({report.already_applied} already applied)", 1)
    if report.interrupted:
        output.out.print(
            Text(f"Apply interrupted: {words}. To finish, {again}.", style="bold yellow")
        )
    elif report.halted:
        output.out.print(Text(f"Apply stopped: {words}. {safe(report.halted)}.", style="bold red"))
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


def _print_problems(console: Console, problems: Sequence[ChangeResult]) -> None:
    """A table when it fits the width with room for PB's words; else a block per change.

    Addresses and transaction ids are never broken: support needs them whole.
    """
    rows = [
        (safe(r.address), r.action, r.status, safe(r.message), safe(r.transaction_id))
        for r in problems
    ]
    fixed = sum(max(len(row[i]) for row in rows) for i in (0, 1, 2, 4))
    if fixed + TABLE_FRAME + MIN_WHY_WIDTH <= console.width:
        table = Table(title="Changes not applied", title_justify="left", show_lines=False)
        for column in ("resource", "action", "result", "why", "transaction id"):
            table.add_column(column, no_wrap=column != "why", overflow="fold")
        for address, action, status, why, txn in rows:
            table.add_row(address, action, Text(status, style=_STATUS_STYLES[status]), why, txn)
        console.print(table)
        return
    console.print(Text("Changes not applied:", style="italic"))
    for address, action, status, why, txn in rows:
        line = Text(f"  {address} ({action}): ")
        line.append(status, style=_STATUS_STYLES[status])
        console.print(line)
        if why:
            console.print(Padding(Text(why), (0, 0, 0, 4)), soft_wrap=False)
        if txn:
            console.print(Text(f"    transaction id {txn}", style="dim"))


_STATUS_STYLES = {"failed": "red", "skipped": "yellow", "not started": "yellow", "done": ""}
