"""Command-line interface: parse options, call the engine, print, choose the exit code.

The only package that prints. This module holds the ``reconcile`` group, its global
options and ``main``; each command family is one module beside it (``catalog``,
``plans``, ``imports``, ``sandbox``, ``doctor``), and ``console`` is where they print.
Commands return an exit code; ``main`` maps click's own usage errors to 64 (EX_USAGE)
because 2 means "changes present" here.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from reconcile import __version__
from reconcile.cli.catalog import (
    COMPLETE_VAR,
    completion,
    fmt_command,
    schema_documents,
    schemas,
    validate,
)
from reconcile.cli.console import Output, fail
from reconcile.cli.doctor import doctor
from reconcile.cli.drift import drift_command
from reconcile.cli.imports import import_command
from reconcile.cli.merchants import merchants
from reconcile.cli.options import add_global_options
from reconcile.cli.plans import apply_command, plan_command, show_command
from reconcile.cli.probe import probe
from reconcile.cli.sandbox import sandbox_group
from reconcile.cli.usage import refuse_terraform_spellings, without_risky_suggestions
from reconcile.errors import EXIT_ERROR, EXIT_USAGE, ReconcileError

__all__ = ["COMPLETE_VAR", "cli", "main", "schema_documents"]

CONTEXT_SETTINGS: dict[str, Any] = {
    "help_option_names": ["-h", "--help"],
    "max_content_width": 100,
}


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, prog_name="reconcile")
@click.option("--no-color", is_flag=True, help="no colours (also: the NO_COLOR variable)")
@click.option("-v", "--verbose", count=True, help="log what happens on stderr (-vv: debug)")
@click.option("-q", "--quiet", is_flag=True, help="no progress or notes on stderr")
@click.pass_context
def cli(ctx: click.Context, no_color: bool, verbose: int, quiet: bool) -> None:
    """Catalog-as-code for the Pitney Bowes Fulfillment APIs.

    --no-color, -v and -q may also follow the command's name, as Terraform's do.
    """
    ctx.obj = Output(color=not no_color and not os.environ.get("NO_COLOR"))
    ctx.obj.configure(quiet=quiet, verbose=verbose)


for command in (
    validate,
    fmt_command,
    schemas,
    completion,
    plan_command,
    apply_command,
    show_command,
    drift_command,
    import_command,
    sandbox_group,
    doctor,
    probe,
    merchants,
):
    cli.add_command(command)
add_global_options(cli)


def main(argv: list[str] | None = None) -> None:
    add_global_options(cli)  # again: for commands registered since (idempotent)
    try:
        refuse_terraform_spellings(sys.argv[1:] if argv is None else argv)
        code = cli.main(args=argv, prog_name="reconcile", standalone_mode=False)
    except click.UsageError as e:
        without_risky_suggestions(e).show()
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
