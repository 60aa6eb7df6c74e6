"""The local PB emulator over HTTP: sandbox serve (the assembly: reconcile.sandbox.server)."""

from __future__ import annotations

import os
import pathlib
from typing import TYPE_CHECKING, Any

import click

from reconcile.cli.console import fail
from reconcile.errors import EXIT_OK, ReconcileError, UsageError

if TYPE_CHECKING:
    from reconcile.sandbox.server import Banner


@click.group("sandbox")
def sandbox_group() -> None:
    """The local emulator of the PB Fulfillment API (for tests, demos and benchmarks)."""


def _settings(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> tuple[tuple[str, Any], ...]:
    """``--set NAME=VALUE`` values, each checked (a bad one: usage error, exit 64)."""
    from reconcile.sandbox.server import ServeError, setting_option

    try:
        return tuple(setting_option(text) for text in values)
    except ServeError as e:
        raise click.BadParameter(str(e)) from None


@sandbox_group.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on")
@click.option(
    "--port", default=8765, show_default=True, type=click.IntRange(0, 65535), help="0: any free"
)
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=pathlib.Path),
    help="SQLite file to keep the data in (default: in memory, gone on exit)",
)
@click.option("--latency-ms", type=click.FloatRange(min=0), default=0.0, help="delay per request")
@click.option("--jitter-ms", type=click.FloatRange(min=0), default=0.0, help="extra random delay")
@click.option(
    "--fault-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    help="fraction of API requests answered 429/500/503 or dropped",
)
@click.option("--seed", type=int, help="seed for jitter and faults (reproducible runs)")
@click.option(
    "--page-max",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="largest page a search serves",
)
@click.option(
    "--token-ttl",
    type=click.IntRange(min=1),
    default=35999,
    show_default=True,
    help="seconds a token stays valid",
)
@click.option(
    "--set",
    "settings",
    multiple=True,
    callback=_settings,
    metavar="NAME=VALUE",
    help="a runtime setting, e.g. the alternatives `reconcile probe` checks: "
    "results_field=items, total_elements=false, one_based_pages=false, date_filters=false, "
    "include_inactive=only, stable_order=false, index_lag_searches=3, extra_fields=true, "
    "bom_get_by_id=false, not_found_error_object=false, fulfillment_enabled=false "
    "(repeatable; VALUE is JSON or text)",
)
def sandbox_serve(
    *,
    host: str,
    port: int,
    db: pathlib.Path | None,
    latency_ms: float,
    jitter_ms: float,
    fault_rate: float,
    seed: int | None,
    page_max: int,
    token_ttl: int,
    settings: tuple[tuple[str, Any], ...] = (),
) -> int:
    """Serve the emulator over HTTP until Ctrl-C (credentials: PB_API_KEY/PB_API_SECRET).

    Exits 0 when stopped, 64 when --host, --port or --db cannot be used (not an address,
    port in use, not a sandbox database), 1 when the server does not start.
    """
    from reconcile.sandbox.server import ListenError, ServeError, ServeOptions, start_sandbox

    options = ServeOptions(
        settings=settings,
        host=host,
        port=port,
        db=db,
        latency_ms=latency_ms,
        jitter_ms=jitter_ms,
        fault_rate=fault_rate,
        seed=seed,
        page_max=page_max,
        token_ttl=token_ttl,
    )
    try:
        server = start_sandbox(options, os.environ)
    except (ServeError, ListenError) as e:
        raise UsageError(str(e)) from None
    except RuntimeError as e:
        return fail(ReconcileError(str(e)))
    with server:
        if server.banner.reachable_from_others:  # warned once listening: the address is real
            click.echo(
                f"warning: listening on {host}, reachable from other machines; the sandbox has"
                " no TLS and accepts the credentials printed below",
                err=True,
            )
        _print_sandbox_banner(server.banner)
        server.wait()
    click.echo("Sandbox stopped.", err=True)
    return EXIT_OK


def _print_sandbox_banner(banner: Banner) -> None:
    """Where it listens, then what to paste: the ``base_url`` for reconcile.yaml (the
    server's root: the client adds PB's paths, so the API base would give 404s) and the
    ``export`` lines of the credentials."""
    click.echo(f"Sandbox listening on {banner.url}")
    click.echo(f"  data: {banner.db if banner.db else 'in memory (gone on exit)'}")
    click.echo("To plan against it, add an environment to reconcile.yaml:")
    click.echo("  environments:")
    click.echo("    served:")
    click.echo(f"      base_url: {banner.url}")
    if banner.credentials_from_env:
        click.echo("  credentials: from PB_API_KEY / PB_API_SECRET (not shown), already set")
    else:  # a local test server: showing its generated credentials is the point
        click.echo("and export its credentials (read for any environment without its own):")
        click.echo(f"  export PB_API_KEY={banner.key}")
        click.echo(f"  export PB_API_SECRET={banner.secret}")
    click.echo("then run: reconcile plan --env served")
    click.echo("Press Ctrl-C to stop.")
