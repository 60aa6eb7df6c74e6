"""Adopting what PB already holds: import (the orchestrator: reconcile.importer)."""

from __future__ import annotations

import pathlib
from typing import TYPE_CHECKING

import click
from rich.text import Text

from reconcile.cli.console import Output, fail, run_with_progress, safe
from reconcile.cli.options import complete_environment
from reconcile.errors import EXIT_OK, ReconcileError

if TYPE_CHECKING:
    from reconcile.importer import ImportResult


@click.command("import")
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
    from reconcile.importer import ImportOptions, import_catalog

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
        result = run_with_progress(
            output, lambda progress: import_catalog(out_dir, options, progress=progress)
        )
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
