"""From settings and an environment name to a ready ``PBClient``.

An embedded environment (``local``) runs the sandbox emulator in-process over
``httpx.ASGITransport``, with its state in ``<catalog>/.reconcile/sandbox.db`` and a
random key and secret, so authentication is exercised exactly as against PB; the state
is opened when the client is entered (``LocalSandboxError``, exit 4, when unusable). Any
other environment reads its credentials from environment variables and must use a safe
URL (``tls.check_base_url``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import httpx
from pydantic import SecretStr

from reconcile.errors import LocalSandboxError
from reconcile.remote.client import PBClient
from reconcile.remote.tls import check_base_url
from reconcile.settings import Credentials, Settings, credential_variables, credentials_for

if TYPE_CHECKING:
    from reconcile.sandbox import Store

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


def _start_over(catalog_dir: Path) -> str:
    return f"delete {catalog_dir / SANDBOX_DIR}/ to start over (it only holds this state)"


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
    path = sandbox_path(catalog_dir).resolve()
    client = EmbeddedClient(catalog_dir.resolve(), settings, environment=name, run_id=run_id)
    return client, ConnectionInfo(environment=name, base_url=EMBEDDED, sandbox_file=str(path))


class _Deferred:
    """An ASGI app that forwards to one set later: the store opens when the client does."""

    def __init__(self) -> None:
        self.app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


class EmbeddedClient(PBClient):
    """A client of the in-process sandbox of one catalog.

    Entering it opens the state (``LocalSandboxError``, exit 4, when it cannot be used);
    leaving it closes the state.
    """

    def __init__(
        self, catalog_dir: Path, settings: Settings, *, environment: str, run_id: str | None
    ) -> None:
        from reconcile.sandbox import SandboxConfig

        self.catalog_dir = catalog_dir
        self.config = SandboxConfig.generate()
        self._app = _Deferred()
        self._store: Store | None = None
        super().__init__(
            base_url=EMBEDDED_URL,
            credentials=Credentials(SecretStr(self.config.key), SecretStr(self.config.secret)),
            limits=settings.limits,
            environment=environment,
            transport=httpx.ASGITransport(app=self._app),
            run_id=run_id,
        )

    async def __aenter__(self) -> Self:
        from reconcile.sandbox import Store, StoreError, create_app

        try:
            store = Store(sandbox_path(self.catalog_dir))
        except StoreError as e:
            fix = "make it writable, or " if e.read_only else ""
            raise LocalSandboxError(
                f"{e.path} is unusable: {e.reason}; {fix}{_start_over(self.catalog_dir)}",
                operation="local sandbox",
            ) from None
        self._store = store
        self._app.app = create_app(store, self.config, log_failures=False)
        return await super().__aenter__()

    async def aclose(self) -> None:
        try:
            await super().aclose()
        finally:
            if self._store is not None:
                self._store.close()
                self._store = None
