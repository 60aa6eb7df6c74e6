"""connect(): from settings to a client, embedded or over loopback HTTP."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from reconcile.environments import connect, give_lock, lock_path, sandbox_path, take_lock
from reconcile.errors import AuthError, InsecureTransport, LocalSandboxError
from reconcile.settings import Environment, Settings
from tests.support.cli import run as run_cli
from tests.support.client import run
from tests.support.files import read_only
from tests.support.sandbox import ServedSandboxHandle, product


def staging(url: str) -> Settings:
    return Settings(client_id="C1", environments={"staging": Environment(base_url=url)})


class TestEmbedded:
    def test_local_runs_the_sandbox_in_process_with_state_on_disk(self, tmp_path: Path) -> None:
        """`local` needs no network or credentials, and keeps its state beside the catalog."""

        client, info = connect(Settings(), None, catalog_dir=tmp_path, environ={})
        run(client, lambda c: c.create_product(product("LOCAL-1")))
        again, _ = connect(Settings(), "local", catalog_dir=tmp_path, environ={})
        found = run(again, lambda c: c.get_product("C1", "LOCAL-1"))
        requests = client.request_count
        assert info.environment == "local" and info.base_url == "embedded"
        assert info.sandbox_file == str(sandbox_path(tmp_path).resolve())
        assert sandbox_path(tmp_path).is_file()
        assert found is not None and found["sku"] == "LOCAL-1"
        assert requests == 2  # a real token request, then the create: auth is exercised

    def test_sandbox_file_is_absolute_whatever_the_working_directory(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A catalog named relatively gives the same absolute sandbox file from any cwd."""
        (tmp_path / "sub").mkdir()
        monkeypatch.chdir(tmp_path)
        client, here = connect(Settings(), None, catalog_dir=Path("."), environ={})
        monkeypatch.chdir(tmp_path / "sub")
        other, there = connect(Settings(), None, catalog_dir=Path(".."), environ={})
        asyncio.run(client.aclose())
        asyncio.run(other.aclose())
        assert here.sandbox_file == there.sandbox_file
        assert here.sandbox_file == str(sandbox_path(tmp_path).resolve())


class TestEmbeddedPace:
    """The in-process emulator is not PB: its client is not rate-limited; PB's clients are."""

    def test_embedded_requests_start_without_waiting(self, tmp_path: Path) -> None:
        """A thousand request slots in a row on `local` need no wait (PB's limit: 50/s)."""
        client, _ = connect(Settings(), None, catalog_dir=tmp_path, environ={})
        waits = [client.pacer.limiter.reserve() for _ in range(1000)]
        assert max(waits) == 0
        assert client.pacer.max_in_flight > Settings().limits.max_in_flight
        asyncio.run(client.aclose())

    def test_remote_requests_keep_the_settings_rate_limit(
        self, sandbox: ServedSandboxHandle
    ) -> None:
        """A base_url environment still spaces request starts by limits.requests_per_second."""
        environ = {"PB_API_KEY": sandbox.key, "PB_API_SECRET": sandbox.secret}
        client, _ = connect(staging(sandbox.url), "staging", catalog_dir=Path("."), environ=environ)
        waits = [client.pacer.limiter.reserve() for _ in range(3)]
        assert waits[2] > 0
        assert client.pacer.max_in_flight == Settings().limits.max_in_flight
        asyncio.run(client.aclose())


def local_catalog(directory: Path) -> Path:
    """A catalog on `local` declaring one product."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "reconcile.yaml").write_text("client_id: C1\n")
    (directory / "items.yaml").write_text(
        "products:\n  - sku: A1\n    productType: ITEM\n    details: {description: a}\n"
    )
    return directory


def other_process_can_lock(path: Path) -> bool:
    """Whether a separate process gets ``path``'s lock at once (filelock's primitive:
    flock on Unix, LockFileEx on Windows)."""
    code = (
        "import os, sys\nfrom filelock import lock_descriptor\n"
        f"fd = os.open({str(path)!r}, os.O_RDWR | os.O_CREAT)\n"
        "sys.exit(0 if lock_descriptor(fd, blocking=False) else 1)\n"
    )
    return subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


@contextmanager
def held_by_another_process(path: Path) -> Iterator[int]:
    """Another process holds ``path``'s lock (taken as a run takes it) until the block ends;
    its pid."""
    code = (
        "import sys\nfrom pathlib import Path\nfrom reconcile.environments import hold_lock\n"
        f"hold_lock(Path({str(path)!r}))\nprint('held', flush=True)\nsys.stdin.read()\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        yield holder.pid
    finally:
        holder.communicate(timeout=60)  # closing stdin ends it: process exit releases the lock


class TestEmbeddedLock:
    """One run at a time uses a catalog's local state: a second fails fast, exit 4."""

    def test_a_second_open_client_is_refused_until_the_first_closes(self, tmp_path: Path) -> None:
        """While one client is open, entering another on the same catalog names the lock."""

        async def overlap() -> tuple[str, bool]:
            first, _ = connect(Settings(), None, catalog_dir=tmp_path, environ={})
            second, _ = connect(Settings(), None, catalog_dir=tmp_path, environ={})
            async with first:
                with pytest.raises(LocalSandboxError) as refused:
                    await second.__aenter__()
            third, _ = connect(Settings(), None, catalog_dir=tmp_path, environ={})
            async with third:
                found = await third.get_product("C1", "NONE") is None
            return str(refused.value), found

        message, reopened = asyncio.run(overlap())
        assert str(lock_path(tmp_path).resolve()) in message
        assert "another reconcile run" in message and f"process {os.getpid()}" in message
        assert reopened

    def test_the_lock_lingers_for_the_next_client_of_this_process(self, tmp_path: Path) -> None:
        """After a client closes, this process keeps the lock (apply's plan-then-write gap):
        another process is refused, the next client here takes it over."""

        async def open_and_close() -> None:
            client, _ = connect(Settings(), None, catalog_dir=tmp_path, environ={})
            async with client:
                pass

        asyncio.run(open_and_close())
        lock = lock_path(tmp_path).resolve()
        assert not other_process_can_lock(lock)
        asyncio.run(open_and_close())  # taken over, not refused
        give_lock(lock, linger=0)  # nothing to give: the client already did
        take_lock(lock)
        give_lock(lock, linger=0)  # let go at once
        assert other_process_can_lock(lock)

    def test_plan_fails_fast_while_another_run_holds_the_lock(self, tmp_path: Path) -> None:
        """`plan` on a catalog whose lock another run holds exits 4 naming the lock file."""
        catalog = local_catalog(tmp_path / "kits")
        lock = lock_path(catalog)
        with held_by_another_process(lock) as holder:
            result = run_cli(["plan", str(catalog)])
        assert result.return_value == 4, result.output
        assert str(lock.resolve()) in result.stderr
        assert f"(process {holder})" in result.stderr
        assert run_cli(["plan", str(catalog)]).return_value == 0  # released: runs again

    def test_two_concurrent_applies_never_duplicate_a_bom(self, tmp_path: Path) -> None:
        """Two `apply` processes at once: one may be refused, but PB never gets two BOMs."""
        catalog = local_catalog(tmp_path / "kits")
        (catalog / "kits.yaml").write_text(
            "products:\n  - sku: K1\n    productType: KIT\n    details: {description: k}\n"
            "boms:\n  - sku: K1\n    description: k\n    billOfMaterialDetails:\n"
            "      - {sku: A1, quantity: 1}\n"
        )
        main = "from reconcile.cli import main; main()"
        command = [sys.executable, "-c", main, "apply", "--auto-approve", str(catalog)]
        runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)]
        runs.append(subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        errors = [p.communicate(timeout=120)[1].decode() for p in runs]
        codes = [p.returncode for p in runs]
        assert set(codes) <= {0, 4} and 0 in codes, errors
        assert run_cli(["plan", str(catalog), "--detailed-exitcode"]).return_value == 0


class TestBrokenLocalState:
    """Unusable local state is a clear error (exit 4) naming the file and the way out."""

    @pytest.mark.parametrize("breakage", ["garbage", "schema", "dir-is-file", "db-is-dir"])
    def test_plan_names_the_file_and_how_to_start_over(self, tmp_path: Path, breakage: str) -> None:
        """Garbage, another schema, a file for .reconcile/, a directory for sandbox.db: exit 4."""
        catalog = local_catalog(tmp_path / "kits")
        state = catalog / ".reconcile"
        if breakage == "dir-is-file":
            state.write_text("x")
        else:
            state.mkdir()
            db = sandbox_path(catalog)
            if breakage == "garbage":
                db.write_text("garbage\n")
            elif breakage == "schema":
                with sqlite3.connect(db) as other:
                    other.execute("CREATE TABLE products (client_id, sku, pb_create)")
            else:
                db.mkdir()
        result = run_cli(["plan", str(catalog)])
        assert result.return_value == 4, result.output
        assert "Unexpected" not in result.stderr
        assert f"delete {state.resolve()}/ to start over" in result.stderr
        named = state if breakage == "dir-is-file" else sandbox_path(catalog)
        assert str(named.resolve()) in result.stderr

    def test_doctor_reports_it_too(self, tmp_path: Path) -> None:
        """doctor on a catalog with a garbage sandbox.db exits 4 with the same advice."""
        catalog = local_catalog(tmp_path / "kits")
        sandbox_path(catalog).parent.mkdir()
        sandbox_path(catalog).write_text("garbage\n")
        result = run_cli(["doctor", str(catalog)])
        assert result.return_value == 4, result.output
        assert "failed  state" in result.stdout and "not a SQLite database" in result.stdout
        assert "to start over" in result.stdout

    def test_a_read_only_state_fails_apply_cleanly(self, tmp_path: Path) -> None:
        """A sandbox.db that cannot be written: exit 4 before any write, no traceback."""
        catalog = local_catalog(tmp_path / "kits")
        assert run_cli(["plan", str(catalog)]).return_value == 0  # creates the state
        with read_only(sandbox_path(catalog)):
            result = run_cli(["apply", "--auto-approve", str(catalog)])
        assert result.return_value == 4, result.output
        assert "read-only" in result.stderr and "make it writable" in result.stderr
        assert "Traceback" not in result.output + result.stderr


class TestRemote:
    def test_loopback_environment_with_credentials_from_the_environment(
        self, sandbox: ServedSandboxHandle
    ) -> None:
        """An environment's credentials come from PB_<ENV>_API_KEY / _SECRET."""
        environ = {"PB_STAGING_API_KEY": sandbox.key, "PB_STAGING_API_SECRET": sandbox.secret}

        client, info = connect(
            staging(sandbox.url), "staging", catalog_dir=Path("."), environ=environ
        )
        assert info.base_url == sandbox.url and info.sandbox_file is None
        assert run(client, lambda c: c.get_product("C1", "NONE")) is None
        assert sandbox.admin.stats()["token_requests"] == 1

    def test_missing_credentials_name_the_variables(self, sandbox: ServedSandboxHandle) -> None:
        """Without credentials, AuthError (exit 4) names both variable pairs."""
        with pytest.raises(AuthError, match="PB_STAGING_API_KEY and PB_STAGING_API_SECRET") as e:
            connect(staging(sandbox.url), "staging", catalog_dir=Path("."), environ={})
        assert e.value.exit_code == 4 and "PB_API_KEY" in str(e.value)

    def test_plain_http_to_a_remote_host_is_refused(self) -> None:
        """An environment on http:// beyond loopback fails before credentials are read."""
        environ = {"PB_API_KEY": "key-value-1", "PB_API_SECRET": "secret-value-1"}
        with pytest.raises(InsecureTransport) as caught:
            # reconcile.yaml refuses this URL already; the client checks again on its own.
            env = Environment.model_construct(base_url="http://pb.example.com")
            settings = Settings.model_construct(client_id="C1", environments={"staging": env})
            connect(settings, "staging", catalog_dir=Path("."), environ=environ)
        assert "key-value-1" not in str(caught.value)
