"""Does PB still match the catalog? drift (the verdict and its renderings: reconcile.drift)."""

from __future__ import annotations

import pathlib

import click

from reconcile.cli.console import Output, fail, print_warnings, run_with_progress
from reconcile.cli.options import dir_argument, env_option
from reconcile.errors import EXIT_CHANGES, EXIT_OK, ReconcileError

DRIFT_FORMATS = ("text", "markdown", "json")


@click.command("drift")
@dir_argument()
@env_option()
@click.option(
    "--format", "fmt", type=click.Choice(DRIFT_FORMATS), default="text", show_default=True
)
@click.pass_obj
def drift_command(output: Output, *, directory: pathlib.Path, env: str | None, fmt: str) -> int:
    """Compare PB with the catalog in DIRECTORY, counting what the catalog does not declare.

    Exits 0 when PB matches the catalog and holds nothing it does not declare, 2 when it
    differs: changes apply would make, or resources PB holds for the client that the
    catalog does not declare (listed, with how to adopt or deactivate each). 3 for an
    invalid catalog, 4 when PB cannot be read. The markdown is ready to open as an issue.
    """
    from reconcile import engine
    from reconcile.drift import Drift, render_drift_json, render_drift_markdown, render_drift_text

    try:
        result = run_with_progress(
            output, lambda progress: engine.make_plan(directory, env=env, progress=progress)
        )
    except ReconcileError as e:
        return fail(e)
    print_warnings(output, result.catalog_warnings)
    drift = Drift(result.plan, directory=str(directory), env=env)
    if fmt == "json":
        click.echo(render_drift_json(drift), nl=False)
    elif fmt == "markdown":
        click.echo(render_drift_markdown(drift))
    else:
        output.out.print(render_drift_text(drift, color=output.color))
    return EXIT_CHANGES if drift.drifted else EXIT_OK
