"""`reconcile doctor`: each check printed with ok/failed/skipped, and its exit code."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import run
from tests.support.sandbox import ServedSandboxHandle, product


def doctor(directory: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    environ = {"NO_COLOR": "1", "PB_API_KEY": None, "PB_API_SECRET": None, **(env or {})}
    result = run(["doctor", str(directory), *args], env=environ)
    assert "Unexpected error" not in result.stderr, result.stderr  # main's word for a crash
    return int(result.return_value), result.stdout


def catalog(tmp_path: Path, url: str = "http://127.0.0.1:9") -> Path:
    (tmp_path / "reconcile.yaml").write_text(
        f"client_id: C1\nenvironments:\n  staging:\n    base_url: {url}\n"
    )
    return tmp_path


def status_of(stdout: str) -> dict[str, str]:
    return {line.split()[1]: line.split()[0] for line in stdout.splitlines() if line[:1] != " "}


class TestDoctor:
    def test_local_environment_passes(self, tmp_path: Path) -> None:
        """On the embedded sandbox every check passes (TLS skipped) and the exit code is 0."""
        code, out = doctor(catalog(tmp_path))
        assert code == 0
        assert status_of(out) == {
            "settings": "ok",
            "environment": "ok",
            "credentials": "ok",
            "transport": "ok",
            "tls": "skipped",
            "token": "ok",
            "search": "ok",
        }

    def test_loopback_server_passes_with_credentials(
        self, tmp_path: Path, sandbox: ServedSandboxHandle
    ) -> None:
        """Against the served emulator: a token round trip and a one-item read-only search."""
        sandbox.admin.load(products=[product("A"), product("B")])
        env = {"PB_STAGING_API_KEY": sandbox.key, "PB_STAGING_API_SECRET": sandbox.secret}

        code, out = doctor(catalog(tmp_path, sandbox.url), "--env", "staging", env=env)
        assert code == 0, out
        assert "read from PB_STAGING_API_KEY and PB_STAGING_API_SECRET" in out
        assert "2 products visible" in out
        assert sandbox.admin.count(route="/products/search") == 1
        assert sandbox.admin.count(method="POST", route="/products") == 0  # nothing written

    def test_rejected_credentials_fail_with_exit_4(
        self, tmp_path: Path, sandbox: ServedSandboxHandle
    ) -> None:
        """Wrong credentials fail the token check, skip the search, and never print values."""
        env = {"PB_STAGING_API_KEY": "wrong-key-xyz", "PB_STAGING_API_SECRET": "wrong-secret-xyz"}

        code, out = doctor(catalog(tmp_path, sandbox.url), "--env", "staging", env=env)
        assert code == 4
        assert status_of(out)["token"] == "failed" and status_of(out)["search"] == "skipped"
        assert "PB_STAGING_API_KEY" in out and "hint:" in out
        assert "wrong-key-xyz" not in out and "wrong-secret-xyz" not in out

    def test_missing_credentials_give_a_hint(self, tmp_path: Path) -> None:
        """Without credentials the hint names the variables to export; exit code 4."""
        code, out = doctor(catalog(tmp_path), "--env", "staging")
        assert code == 4
        assert status_of(out)["credentials"] == "failed"
        assert "export PB_STAGING_API_KEY and PB_STAGING_API_SECRET" in out

    def test_insecure_url_fails_the_transport_check(self, tmp_path: Path) -> None:
        """Plain http to a remote host fails as a bad setting, before anything is sent."""
        env = {"PB_API_KEY": "some-key", "PB_API_SECRET": "some-secret"}
        code, out = doctor(catalog(tmp_path, "http://pb.example.com"), "--env", "staging", env=env)
        assert code == 3
        assert status_of(out)["settings"] == "failed"
        assert "plain http to pb.example.com would send credentials unencrypted" in out

    def test_invalid_settings_exit_3(self, tmp_path: Path) -> None:
        """A broken reconcile.yaml is reported as the settings check, exit code 3."""
        (tmp_path / "reconcile.yaml").write_text("limits:\n  requests_per_second: fast\n")
        code, out = doctor(tmp_path)
        assert code == 3
        assert status_of(out)["settings"] == "failed" and "requests_per_second" in out

    def test_missing_directory_says_so(self, tmp_path: Path) -> None:
        """A directory that does not exist is named as such, not 'fix reconcile.yaml'."""
        code, out = doctor(tmp_path / "nonexistent")
        assert code == 3 and status_of(out)["settings"] == "failed"
        assert "hint: pass the catalog directory" in out and "fix reconcile.yaml" not in out

    def test_unavailable_pb_says_retry_later(
        self, tmp_path: Path, sandbox: ServedSandboxHandle
    ) -> None:
        """A search answered 503 hints that PB is unavailable, not to ask for API access."""
        sandbox.admin.fault(
            "503", path_prefix="/shippingservices/fulfillment/v1/products/search", times=10
        )
        env = {"PB_STAGING_API_KEY": sandbox.key, "PB_STAGING_API_SECRET": sandbox.secret}
        code, out = doctor(catalog(tmp_path, sandbox.url), "--env", "staging", env=env)
        assert code == 4 and status_of(out)["search"] == "failed", out
        assert "unavailable right now (HTTP 503); retry later" in out
        assert "enable the Fulfillment APIs" not in out

    def test_unknown_environment_exit_3(self, tmp_path: Path) -> None:
        """--env naming no environment fails with the known names, exit code 3."""
        code, out = doctor(catalog(tmp_path), "--env", "nowhere")
        assert code == 3 and "known:" in out
