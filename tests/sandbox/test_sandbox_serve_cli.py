"""``reconcile sandbox serve``: start, print URL and credentials, serve, stop cleanly."""

from __future__ import annotations

import os
import pathlib
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import httpx2 as httpx
import pytest

from reconcile.cli import main
from reconcile.errors import EXIT_USAGE
from reconcile.sandbox.server import is_loopback
from tests.support.sandbox import SHARED_SSL_CONTEXT

SERVE = [sys.executable, "-c", "from reconcile.cli import main; main()", "sandbox", "serve"]


@contextmanager
def serving(
    *args: str, env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    """Run the command until its banner is printed; yield the process and banner lines."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PB_API_")}
    environ.update(env or {})
    proc = subprocess.Popen(
        [*SERVE, "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environ,
    )
    try:
        lines: list[str] = []
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("Press Ctrl-C"):
                break
        assert lines and lines[-1].startswith("Press Ctrl-C"), (
            lines,
            proc.stderr and proc.stderr.read(),
        )
        yield proc, lines
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def banner_value(lines: list[str], prefix: str) -> str:
    words = [line.strip().removeprefix("export ") for line in lines]
    return next(word.split("=", 1)[1] for word in words if word.startswith(prefix))


def get_token(url: str, key: str, secret: str) -> httpx.Response:
    with httpx.Client(verify=SHARED_SSL_CONTEXT) as client:
        return client.post(
            f"{url}/oauth/token", auth=(key, secret), data={"grant_type": "client_credentials"}
        )


class TestServe:
    def test_serves_with_generated_credentials_and_stops_on_ctrl_c(self) -> None:
        """The banner gives a loopback URL and working generated credentials; SIGINT exits 0."""
        with serving("--page-max", "7") as (proc, lines):
            url = re.search(r"http://127\.0\.0\.1:\d+", lines[0])
            assert url, lines
            key, secret = banner_value(lines, "PB_API_KEY="), banner_value(lines, "PB_API_SECRET=")
            token = get_token(url.group(0), key, secret)
            assert token.status_code == 200
            proc.send_signal(signal.SIGINT)
            assert proc.wait(10) == 0
            assert proc.stderr is not None and "Sandbox stopped." in proc.stderr.read()

    def test_env_credentials_are_used_and_not_printed(self, tmp_path: pathlib.Path) -> None:
        """With PB_API_KEY/PB_API_SECRET set the secret is never printed; SIGTERM exits 0."""
        env = {"PB_API_KEY": "env-key", "PB_API_SECRET": "env-secret-value"}
        db = tmp_path / "nested" / "dir" / "sandbox.db"
        with serving("--db", str(db), env=env) as (proc, lines):
            text = "\n".join(lines)
            assert "env-secret-value" not in text and "from PB_API_KEY / PB_API_SECRET" in text
            url = lines[0].split()[-1]
            assert get_token(url, "env-key", "env-secret-value").status_code == 200
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(10) == 0
            assert proc.stdout is not None and "env-secret-value" not in proc.stdout.read()
        assert db.is_file()


class TestServeUsage:
    @pytest.mark.parametrize(
        "args",
        [
            ["--fault-rate", "2"],
            ["--fault-rate", "-0.1"],
            ["--latency-ms", "-5"],
            ["--page-max", "0"],
            ["--token-ttl", "0"],
            ["--port", "70000"],
            ["--seed", "abc"],
        ],
    )
    def test_bad_flags_exit_64(self, args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
        """Out-of-range or malformed flags are usage errors (exit 64) with a message."""
        with pytest.raises(SystemExit) as exited:
            main(["sandbox", "serve", *args])
        assert exited.value.code == EXIT_USAGE
        assert "Error" in capsys.readouterr().err

    def test_half_set_credentials_exit_64(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """PB_API_KEY without PB_API_SECRET is a usage error naming both variables."""
        monkeypatch.setenv("PB_API_KEY", "only-key")
        monkeypatch.delenv("PB_API_SECRET", raising=False)
        with pytest.raises(SystemExit) as exited:
            main(["sandbox", "serve", "--port", "0"])
        assert exited.value.code == EXIT_USAGE
        assert "PB_API_SECRET" in capsys.readouterr().err

    def test_busy_port_is_a_usage_error(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A port already in use exits 64 naming host and port and what to do."""
        monkeypatch.delenv("PB_API_KEY", raising=False)
        monkeypatch.delenv("PB_API_SECRET", raising=False)
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            with pytest.raises(SystemExit) as exited:
                main(["sandbox", "serve", "--port", str(port)])
        assert exited.value.code == EXIT_USAGE
        err = capsys.readouterr().err
        assert f"127.0.0.1:{port} is already in use" in err and "--port 0" in err

    @pytest.mark.parametrize("host", ["999.1.1.1", "bad host", "1.2.3", ""])
    def test_a_bad_host_is_refused_before_any_warning(
        self, host: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A --host that is no address is a usage error (64), without the 'listening' warning."""
        monkeypatch.delenv("PB_API_KEY", raising=False)
        monkeypatch.delenv("PB_API_SECRET", raising=False)
        with pytest.raises(SystemExit) as exited:
            main(["sandbox", "serve", "--host", host, "--port", "0"])
        assert exited.value.code == EXIT_USAGE
        err = capsys.readouterr().err
        assert "--host" in err and "neither an IP address nor a host name" in err
        assert "listening" not in err

    def test_a_db_that_is_not_a_sandbox_database_is_a_usage_error(
        self,
        tmp_path: pathlib.Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """--db naming a file that is not SQLite exits 64 naming the file and why."""
        monkeypatch.delenv("PB_API_KEY", raising=False)
        monkeypatch.delenv("PB_API_SECRET", raising=False)
        db = tmp_path / "x.db"
        db.write_text("garbage\n")
        with pytest.raises(SystemExit) as exited:
            main(["sandbox", "serve", "--db", str(db), "--port", "0"])
        assert exited.value.code == EXIT_USAGE
        assert f"--db {db}: not a SQLite database" in capsys.readouterr().err

    @pytest.mark.parametrize(
        ("host", "loopback"),
        [
            ("127.0.0.1", True),
            ("127.5.5.5", True),
            ("localhost", True),
            ("::1", True),
            ("0.0.0.0", False),
            ("example.org", False),
        ],
    )
    def test_loopback_detection(self, host: str, loopback: bool) -> None:
        """Only loopback addresses count as local (others get a warning on start)."""
        assert is_loopback(host) is loopback
