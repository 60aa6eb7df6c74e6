"""Commands on the catalog files alone, offline: validate, fmt, schemas, completion."""

from __future__ import annotations

import os
import pathlib
from collections.abc import Sequence
from typing import Any

import click

from reconcile.cli.console import fail, safe
from reconcile.cli.options import dir_argument
from reconcile.errors import EXIT_INVALID, EXIT_OK, CatalogError, Problem, UsageError

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


@click.command()
@dir_argument()
@click.option(
    "--format",
    "output_format",
    type=click.Choice(PROBLEM_FORMATS),
    default=None,
    help="text, or github for workflow annotations as well (default when GITHUB_ACTIONS=true)",
)
def validate(directory: pathlib.Path, output_format: str | None) -> int:
    """Check the catalog in DIRECTORY offline; report every problem at file:line:col.

    DIRECTORY defaults to the nearest one holding reconcile.yaml, here or above.

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


@click.command("fmt")
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
    from reconcile.plan.summary_json import PlanSummary, summary_schema
    from reconcile.probe.check import JSON_SCHEMA as PROBE_SCHEMA
    from reconcile.remote.merchants import MerchantList
    from reconcile.remote.report import ApplySummary

    return [
        *catalog_documents(),
        ("plan.schema.json", Plan.json_schema()),
        ("plan-summary.schema.json", summary_schema(PlanSummary, "plan-summary.schema.json")),
        ("apply-summary.schema.json", summary_schema(ApplySummary, "apply-summary.schema.json")),
        ("merchants.schema.json", MerchantList.json_schema()),
        ("probe.schema.json", PROBE_SCHEMA),
    ]


@click.command()
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


@click.command()
@click.argument("shell", type=click.Choice(COMPLETION_SHELLS))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> int:
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
    root = ctx.find_root().command  # the `reconcile` group
    completer = completer_class(root, {}, "reconcile", COMPLETE_VAR)
    click.echo(completer.source())
    return 0
