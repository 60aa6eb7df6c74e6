"""The merchants enrolled through the developer id: merchants (reconcile.probe.merchants)."""

from __future__ import annotations

import asyncio
import os
import pathlib
from typing import TYPE_CHECKING

import click
from rich.table import Table

from reconcile.cli.console import Output, fail, safe
from reconcile.cli.options import dir_argument, env_option
from reconcile.errors import EXIT_OK, CatalogError, UsageError

if TYPE_CHECKING:
    from reconcile.remote.merchants import Merchant, MerchantList


def _sort(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from reconcile.remote.merchants import check_sort

    try:
        return None if value is None else check_sort(value)
    except ValueError as e:
        raise click.BadParameter(str(e)) from None


@click.command("merchants")
@dir_argument()
@env_option()
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--sort",
    metavar="PROPERTY,DIRECTION",
    callback=_sort,
    help="PB sorts by this merchant field, e.g. fullName,asc or registeredDate,desc",
)
@click.option(
    "--status",
    type=click.Choice(["ACTIVE", "INACTIVE"], case_sensitive=False),
    help="only merchants with this status",
)
@click.pass_obj
def merchants(
    output: Output,
    *,
    directory: pathlib.Path,
    env: str | None,
    fmt: str,
    sort: str | None,
    status: str | None,
) -> int:
    """List every merchant enrolled through the environment's developer id (all pages).

    The developer id comes from PB_<ENV>_DEVELOPER_ID, else `developer_id` of the
    environment in reconcile.yaml, else PB_DEVELOPER_ID. Exits 0, 3 for bad settings or
    no developer id, 4 when PB fails.
    """
    from reconcile.desired import load_settings
    from reconcile.probe.merchants import list_merchants

    try:
        settings = load_settings(directory)
        listing = asyncio.run(
            list_merchants(
                settings,
                env,
                catalog_dir=directory,
                environ=os.environ,
                sort=[sort] if sort else None,
                status=status.upper() if status else None,
            )
        )
    except (CatalogError, UsageError) as e:
        return fail(e)
    if fmt == "json":
        click.echo(listing.model_dump_json(indent=2))
    else:
        _print_table(output, listing)
    return EXIT_OK


def _print_table(output: Output, listing: MerchantList) -> None:
    table = Table(box=None, pad_edge=False)
    for column in ("name", "company", "email", "shipper id", "status", "registered", "carriers"):
        table.add_column(column)
    for m in listing.merchants:
        table.add_row(*(safe(cell) for cell in _row(m)))
    output.out.print(table)
    count = len(listing.merchants)
    output.err.print(
        f"{count} merchant{'s' if count != 1 else ''} of developer {listing.developer_id!r}"
    )


def _row(m: Merchant) -> list[str]:
    status = m.status or "-"
    if m.status_reason or m.deactivated_date:
        status += f" ({'; '.join(x for x in (m.status_reason, m.deactivated_date) if x)})"
    carriers = ", ".join(
        f"{a.carrier or '?'} {a.account_number or '?'}"
        + (" (inactive)" if a.active is False else "")
        for a in m.carrier_accounts
    )
    registered = m.registered.date().isoformat() if m.registered else "-"
    return [
        m.full_name or "-",
        m.company or "-",
        m.email or "-",
        m.shipper_id or "-",
        status,
        registered,
        carriers or "-",
    ]
