"""Opening the store: files it cannot use are refused with the reason, at once."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

import httpx2 as httpx
import pytest

from reconcile.sandbox import SandboxConfig, Store, StoreError, create_app
from reconcile.sandbox.config import API_PREFIX, TOKEN_PATH, TRANSACTION_ID_HEADER
from tests.support.files import read_only


def existing_store(path: Path) -> Path:
    Store(path).close()
    return path


class TestOpeningFiles:
    """Each unusable file is a StoreError naming the file and what is wrong with it."""

    def test_garbage_is_not_a_database(self, tmp_path: Path) -> None:
        """A file of text is refused as not SQLite."""
        path = tmp_path / "sandbox.db"
        path.write_text("garbage\n" * 100)
        with pytest.raises(StoreError, match="not a SQLite database") as refused:
            Store(path)
        assert refused.value.path == str(path)

    def test_another_schema_is_refused(self, tmp_path: Path) -> None:
        """A SQLite file whose products table lacks our columns is refused when opened."""
        path = tmp_path / "sandbox.db"
        db = sqlite3.connect(path)
        db.execute("CREATE TABLE products (client_id TEXT, sku TEXT, pb_create REAL)")
        db.close()
        with pytest.raises(StoreError, match="another schema"):
            Store(path)

    def test_a_file_where_the_directory_should_be(self, tmp_path: Path) -> None:
        """A file in place of the parent directory is refused, naming that file."""
        (tmp_path / "state").write_text("x")
        with pytest.raises(StoreError, match="is a file where a directory is needed"):
            Store(tmp_path / "state" / "sandbox.db")

    def test_a_directory_where_the_file_should_be(self, tmp_path: Path) -> None:
        """A directory in place of the database file is refused."""
        (tmp_path / "sandbox.db").mkdir()
        with pytest.raises(StoreError, match="cannot be opened"):
            Store(tmp_path / "sandbox.db")

    def test_a_read_only_file_is_refused_when_opened(self, tmp_path: Path) -> None:
        """A database the store could read but not write fails at open, not at the first write."""
        path = existing_store(tmp_path / "sandbox.db")
        with read_only(path), pytest.raises(StoreError, match="read-only"):
            Store(path)

    def test_a_good_file_opens_again(self, tmp_path: Path) -> None:
        """The checks accept the store's own file, with its data."""
        path = tmp_path / "sandbox.db"
        store = Store(path)
        store.put_product({"clientId": "C1", "sku": "A", "details": {}}, "PUBLISHED", 1.0, 1.0)
        store.close()
        again = Store(path)
        assert again.get_product("C1", "A") is not None
        again.close()


class TestFailureLogging:
    """A request the store fails is a 500; the traceback is logged only when asked."""

    def failing_request(self, *, log_failures: bool) -> int:
        store = Store()
        config = SandboxConfig.generate()
        app = create_app(store, config, log_failures=log_failures)
        store.close()  # every store call now raises

        async def call() -> int:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                answer = await client.post(
                    TOKEN_PATH,
                    data={"grant_type": "client_credentials"},
                    auth=(config.key, config.secret),
                )
                token = answer.json()["access_token"]
                failed = await client.get(
                    f"{API_PREFIX}/products/A",
                    headers={"Authorization": f"Bearer {token}", TRANSACTION_ID_HEADER: "t-1"},
                )
                return failed.status_code

        return asyncio.run(call())

    def test_in_process_failures_log_no_traceback(self, caplog: pytest.LogCaptureFixture) -> None:
        """log_failures=False (the embedded sandbox) keeps tracebacks off the terminal."""
        caplog.set_level(logging.INFO, logger="reconcile.sandbox")
        assert self.failing_request(log_failures=False) == 500
        assert not [r for r in caplog.records if r.levelno >= logging.INFO]

    def test_served_failures_log_the_traceback(self, caplog: pytest.LogCaptureFixture) -> None:
        """By default (sandbox serve) a failing request's traceback is logged as an error."""
        caplog.set_level(logging.INFO, logger="reconcile.sandbox")
        assert self.failing_request(log_failures=True) == 500
        assert [r for r in caplog.records if r.levelno >= logging.ERROR and r.exc_info]
