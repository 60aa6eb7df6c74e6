"""Usage errors that teach: Terraform's spellings get ours, and a "did you mean" never
offers a flag that changes what gets written.

click suggests the closest option name for a typo, so `--no-colr` could be answered
with `--no-prune`: a flag that decides what is deactivated in PB. Such suggestions are
dropped (``RISKY_OPTIONS``); Terraform's single-dash spellings (``-auto-approve``),
which click would read as ``-a``, are caught before parsing and named in our form.
"""

from __future__ import annotations

from collections.abc import Sequence

import click

#: Terraform's spelling → ours (every command that has it takes ours).
TERRAFORM_SPELLINGS: dict[str, str] = {
    "-auto-approve": "--auto-approve",
    "-detailed-exitcode": "--detailed-exitcode",
    "-no-color": "--no-color",
    "-out": "--out",
    "-target": "--target",
    "-json": "--format json",
    "-force": "--force",
}

#: Options a usage error never suggests: each changes what is written (to PB or to files).
RISKY_OPTIONS = frozenset(
    {
        "--prune",
        "--no-prune",
        "--force",
        "--auto-approve",
        "--target",
        "--exclude",
        "--include-inactive",
        "--plan",
        "--out",
    }
)


def refuse_terraform_spellings(argv: Sequence[str]) -> None:
    """A usage error (64) for a Terraform single-dash option, naming ours."""
    for word in argv:
        if word == "--":
            return
        name, _, value = word.partition("=")
        ours = TERRAFORM_SPELLINGS.get(name)
        if ours is not None:
            spelled = f"{ours} {value}" if value and " " not in ours else ours
            raise click.UsageError(
                f"No such option: {word} (Terraform's spelling). Did you mean {spelled}?"
            )


def without_risky_suggestions(error: click.UsageError) -> click.UsageError:
    """``error`` with "did you mean" suggestions that change what is written removed."""
    if isinstance(error, click.NoSuchOption) and error.possibilities:
        safe = [p for p in error.possibilities if p not in RISKY_OPTIONS]
        return click.NoSuchOption(error.option_name, possibilities=safe, ctx=error.ctx)
    return error
