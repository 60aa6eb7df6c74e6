"""connect(): from settings to a client, embedded or over loopback HTTP, and the TLS probe."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconcile.errors import AuthError, InsecureTransport
from reconcile.remote.connect import connect, sandbox_path
from reconcile.remote.tls import negotiated_tls_version, tls_context
from reconcile.settings import Environment, Settings
from tests.support.sandbox import ServedSandboxHandle, product


def staging(url: str) -> Settings:
    return Settings(client_id="C1", environments={"staging": Environment(base_url=url)})


class TestEmbedded:
    def test_local_runs_the_sandbox_in_process_with_state_on_disk(self, tmp_path: Path) -> None:
        """`local` needs no network or credentials, and keeps its state beside the catalog."""

        async def write_then_read() -> tuple[Any, Any, int]:
            client, info = connect(Settings(), None, catalog_dir=tmp_path, environ={})
            async with client:
                await client.create_product(product("LOCAL-1"))
            again, _ = connect(Settings(), "local", catalog_dir=tmp_path, environ={})
            async with again:
                found = await again.get_product("C1", "LOCAL-1")
            return info, found, client.request_count

        info, found, requests = asyncio.run(write_then_read())
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


class TestRemote:
    def test_loopback_environment_with_credentials_from_the_environment(
        self, sandbox: ServedSandboxHandle
    ) -> None:
        """An environment's credentials come from PB_<ENV>_API_KEY / _SECRET."""
        environ = {"PB_STAGING_API_KEY": sandbox.key, "PB_STAGING_API_SECRET": sandbox.secret}

        async def read() -> Any:
            client, info = connect(
                staging(sandbox.url), "staging", catalog_dir=Path("."), environ=environ
            )
            async with client:
                assert info.base_url == sandbox.url and info.sandbox_file is None
                return await client.get_product("C1", "NONE")

        assert asyncio.run(read()) is None
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
            connect(
                staging("http://pb.example.com"), "staging", catalog_dir=Path("."), environ=environ
            )
        assert "key-value-1" not in str(caught.value)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """A self-signed certificate for localhost (needs the openssl command)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )
    yield cert, key


async def probe(cert: Path, key: Path, maximum: ssl.TLSVersion) -> str:
    """Serve TLS on loopback with at most ``maximum`` and probe it."""
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    server_context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    server_context.maximum_version = maximum

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=server_context)
    port = server.sockets[0].getsockname()[1]
    try:
        return await negotiated_tls_version(f"https://localhost:{port}", timeout=5)
    finally:
        server.close()


class TestTlsProbe:
    def test_modern_tls_is_negotiated(
        self, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A server offering TLS 1.3 with a trusted certificate is accepted."""
        monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
        assert asyncio.run(probe(*certificate, ssl.TLSVersion.MAXIMUM_SUPPORTED)) == "TLSv1.3"

    def test_untrusted_certificate_is_refused(self, certificate: tuple[Path, Path]) -> None:
        """A self-signed certificate nobody trusts fails verification."""
        with pytest.raises(ssl.SSLCertVerificationError):
            asyncio.run(probe(*certificate, ssl.TLSVersion.MAXIMUM_SUPPORTED))

    def test_context_honours_ssl_cert_file(
        self, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """SSL_CERT_FILE (e.g. a corporate CA bundle) is the trust store when set."""
        monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
        assert tls_context().cert_store_stats()["x509_ca"] >= 1
