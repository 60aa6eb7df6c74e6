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


# ---- completion (shell completion scripts through click) ----

COMPLETION_SHELLS = ("bash", "zsh", "fish")
COMPLETE_VAR = "_RECONCILE_COMPLETE"


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
