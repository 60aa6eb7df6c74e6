"""serve_in_thread and SandboxConfig.generate: the pieces tests and the CLI start from."""

from __future__ import annotations

import re

import httpx2 as httpx
import pytest

from reconcile.sandbox import SandboxConfig, Store, create_app, serve_in_thread
from reconcile.sandbox.server import ListenError
from tests.support.sandbox import SHARED_SSL_CONTEXT


class TestServeInThread:
    def test_serves_on_a_free_loopback_port_until_stopped(self) -> None:
        """The URL names 127.0.0.1 and a real port; after stop() nothing listens there."""
        app = create_app(Store(), SandboxConfig(key="k", secret="s"))
        with httpx.Client(verify=SHARED_SSL_CONTEXT) as client:
            with serve_in_thread(app) as served:
                assert re.fullmatch(r"http://127\.0\.0\.1:\d+", served.url)
                assert served.port > 0 and served.running
                assert client.get(f"{served.url}/__sandbox/stats").status_code == 200
            assert not served.running
            with pytest.raises(httpx.ConnectError):
                client.get(f"{served.url}/__sandbox/stats")
            served.stop()  # a second stop is harmless

    def test_a_busy_port_raises_listen_error(self) -> None:
        """Asking for a port in use fails at once with ListenError naming the port."""
        app = create_app(Store(), SandboxConfig(key="k", secret="s"))
        with serve_in_thread(app) as served, pytest.raises(ListenError, match="already in use"):
            serve_in_thread(app, port=served.port)


class TestGenerate:
    def test_generated_credentials_are_random(self) -> None:
        """Each generated config gets its own key and secret."""
        first, second = SandboxConfig.generate(), SandboxConfig.generate()
        assert first.key != second.key and first.secret != second.secret
        assert len(first.secret) >= 24

    def test_given_values_win(self) -> None:
        """Explicit key, secret and settings are kept; None means generate."""
        config = SandboxConfig.generate(key="mine", secret=None, page_max=7)
        assert config.key == "mine" and config.secret and config.page_max == 7
