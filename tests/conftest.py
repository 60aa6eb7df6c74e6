"""Fixtures shared by the whole suite.

``served_sandbox``: one uvicorn-served emulator per session on 127.0.0.1.
``sandbox``: that emulator, reset for each test (url, key, secret, admin).
``inprocess_sandbox``: a fresh in-process ``(app, store, config)`` for httpx.ASGITransport.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette

from reconcile.sandbox import SandboxConfig, ServedSandbox, Store, create_app, serve_in_thread
from tests.support.sandbox import SandboxAdmin, ServedSandboxHandle

SANDBOX_KEY = "test-key"
SANDBOX_SECRET = "test-secret"


@pytest.fixture(scope="session")
def served_sandbox() -> Iterator[ServedSandbox]:
    """One emulator over real HTTP for the whole session (reset per test by ``sandbox``)."""
    config = SandboxConfig(key=SANDBOX_KEY, secret=SANDBOX_SECRET)
    with serve_in_thread(create_app(Store(), config)) as served:
        yield served


@pytest.fixture
def sandbox(served_sandbox: ServedSandbox) -> Iterator[ServedSandboxHandle]:
    """The session emulator, wiped and with its startup config restored."""
    admin = SandboxAdmin(served_sandbox.url)
    admin.reset()
    try:
        yield ServedSandboxHandle(served_sandbox.url, SANDBOX_KEY, SANDBOX_SECRET, admin)
    finally:
        admin.close()


@pytest.fixture
def inprocess_sandbox() -> tuple[Starlette, Store, SandboxConfig]:
    """A fresh in-memory emulator app for ``httpx.ASGITransport`` (no server)."""
    config = SandboxConfig(key=SANDBOX_KEY, secret=SANDBOX_SECRET)
    store = Store()
    return create_app(store, config), store, config
