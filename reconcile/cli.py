"""Command-line interface: parse options, call the engine, print, choose the exit code.

The only module that prints. Commands return an exit code; ``main`` maps click's own
usage errors to 64 (EX_USAGE) because 2 means "changes present" here.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from reconcile import __version__
from reconcile.errors import EXIT_ERROR, EXIT_USAGE, ReconcileError

CONTEXT_SETTINGS: dict[str, Any] = {
    "help_option_names": ["-h", "--help"],
    "max_content_width": 100,
}


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, prog_name="reconcile")
def cli() -> None:
    """Catalog-as-code for the Pitney Bowes Fulfillment APIs."""


def fail(error: ReconcileError) -> int:
    """Report an expected error on stderr and return its exit code."""
    click.echo(f"Error: {error}", err=True)
    return error.exit_code


# ---- commands are registered below, one section per command ----


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
