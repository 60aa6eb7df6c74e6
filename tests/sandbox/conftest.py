"""Fixtures for the emulator's contract tests: an authenticated client on the PB API."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2 as httpx
import pytest

from tests.support.sandbox import SHARED_SSL_CONTEXT, ServedSandboxHandle


@pytest.fixture
def api(sandbox: ServedSandboxHandle) -> Iterator[httpx.Client]:
    """An httpx client on the served API base, with a bearer token and transaction ids."""
    with sandbox.client() as client:
        yield client


@pytest.fixture
def http(sandbox: ServedSandboxHandle) -> Iterator[httpx.Client]:
    """A plain httpx client (no token, no transaction id) on the emulator's root URL."""
    with httpx.Client(base_url=sandbox.url, verify=SHARED_SSL_CONTEXT) as client:
        yield client
