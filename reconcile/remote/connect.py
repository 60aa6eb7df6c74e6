"""From settings and an environment name to a ready ``PBClient``.

An embedded environment (``local``) runs the sandbox emulator in-process over
``httpx.ASGITransport``, with its state in ``<catalog>/.reconcile/sandbox.db`` and a
random key and secret, so authentication is exercised exactly as against PB. Any other
environment reads its credentials from environment variables and must use a safe URL
(``tls.check_base_url``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
from pydantic import SecretStr

from reconcile.remote.client import PBClient
from reconcile.remote.tls import check_base_url
from reconcile.settings import Credentials, Settings, credential_variables, credentials_for

SANDBOX_DIR = ".reconcile"
SANDBOX_FILE = "sandbox.db"
EMBEDDED_URL = "http://sandbox.embedded"  # never resolved: the transport is in-process
EMBEDDED = "embedded"


@dataclass(frozen=True)
class ConnectionInfo:
    """Where a client talks to, for plan headers and messages (no secrets)."""

    environment: str
    base_url: str  # "embedded" for the in-process sandbox
    #: Absolute, so a plan saved from one directory names the same file from any other.
    sandbox_file: str | None = None

    @property
    def embedded(self) -> bool:
        return self.base_url == EMBEDDED


def sandbox_path(catalog_dir: Path) -> Path:
    return catalog_dir / SANDBOX_DIR / SANDBOX_FILE


def connect(
    settings: Settings,
    env_name: str | None,
    *,
    catalog_dir: Path,
    environ: Mapping[str, str],
    run_id: str | None = None,
) -> tuple[PBClient, ConnectionInfo]:
    """A client for the named (or default) environment; enter it with ``async with``."""
    name, environment = settings.environment(env_name)
    if environment.embedded:
        return _embedded(settings, name, catalog_dir, run_id)
    base_url = check_base_url(environment.base_url or "")
    credentials = credentials_for(name, environ)
    specific, generic = credential_variables(name)
    client = PBClient(
        base_url=base_url,
        credentials=credentials,
        limits=settings.limits,
        environment=name,
        run_id=run_id,
        credential_vars=(*specific, *generic),
    )
    return client, ConnectionInfo(environment=name, base_url=base_url)


def _embedded(
    settings: Settings, name: str, catalog_dir: Path, run_id: str | None
) -> tuple[PBClient, ConnectionInfo]:
    from reconcile.sandbox import SandboxConfig, Store, create_app

    path = sandbox_path(catalog_dir).resolve()
    config = SandboxConfig.generate()
    store = Store(path)
    app = create_app(store, config)
    client = PBClient(
        base_url=EMBEDDED_URL,
        credentials=Credentials(SecretStr(config.key), SecretStr(config.secret)),
        limits=settings.limits,
        environment=name,
        transport=httpx.ASGITransport(app=app),
        run_id=run_id,
        on_close=store.close,
    )
    return client, ConnectionInfo(environment=name, base_url=EMBEDDED, sandbox_file=str(path))
