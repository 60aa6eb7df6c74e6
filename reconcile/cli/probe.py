"""Do this tool's wire assumptions hold for this PB account? probe (the checks:
reconcile.probe)."""

from __future__ import annotations

import asyncio
import json
import os
import pathlib
from typing import TYPE_CHECKING

import click
from rich.text import Text

from reconcile.cli.console import Output, fail, safe
from reconcile.cli.options import dir_argument, env_option
from reconcile.errors import CatalogError

if TYPE_CHECKING:
    from reconcile.probe import Check

PROBE_STYLES = {"passed": "green", "failed": "bold red", "unknown": "yellow"}
WRITE_NOTICE = (
    "probe --write creates throwaway products and a BOM named {prefix}-… in environment "
    "{env!r}. PB has no DELETE: they stay in PB, deactivated (active: false) at the end."
)


@click.command("probe")
@dir_argument()
@env_option()
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--record",
    type=click.Path(file_okay=False, path_type=pathlib.Path),
    help="write every request and answer here, one file each (key, secret, token masked)",
)
@click.option("--write", is_flag=True, help="also check writes on throwaway RCPROBE-<run> objects")
@click.pass_obj
def probe(
    output: Output,
    *,
    directory: pathlib.Path,
    env: str | None,
    fmt: str,
    record: pathlib.Path | None,
    write: bool,
) -> int:
    """Check the wire assumptions against a PB environment, before the first write.

    Read-only unless --write (refused where require_plan_file is set). Each check is
    passed, failed (what PB answered and what it means) or unknown (cannot be decided on
    this account). Exits 0 when no check failed, 4 when one did, 3 for bad settings.
    """
    from reconcile.desired import load_settings
    from reconcile.probe import ProbeOptions, exit_code, run_probe, write_refusal

    try:
        settings = load_settings(directory)
        options = ProbeOptions(write=write, record=record)
        if write:
            write_refusal(settings, env)
    except CatalogError as e:
        return fail(e)
    if write:
        name = env or settings.default_environment
        click.echo(WRITE_NOTICE.format(prefix=options.prefix, env=name), err=True)
    try:
        checks = asyncio.run(
            run_probe(settings, env, catalog_dir=directory, environ=os.environ, options=options)
        )
    except CatalogError as e:
        return fail(e)
    _print(output, checks, fmt)
    return exit_code(checks)


def _print(output: Output, checks: list[Check], fmt: str) -> None:
    if fmt == "json":
        document = {"format_version": 1, "checks": [c.as_json() for c in checks]}
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
        return
    for check in checks:
        line = Text(f"{check.status:<8}", style=PROBE_STYLES[check.status])
        line.append(f"{check.name:<24}{safe(check.detail)}")
        output.out.print(line)
