"""TLS: the probe `doctor` runs, TLS >= 1.2, and which certificates are trusted
(`tls.trust`: default, or the operating system's store through truststore)."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import truststore

from reconcile.environments import connect
from reconcile.errors import SettingsError
from reconcile.remote.tls import negotiated_tls_version, tls_context
from reconcile.settings import TRUST_VARIABLE, Environment, Settings, Tls, Trust
from tests.support.cli import run as run_cli


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


async def probe(cert: Path, key: Path, maximum: ssl.TLSVersion, trust: Trust = "default") -> str:
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
        return await negotiated_tls_version(f"https://localhost:{port}", 5, trust)
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


class TestSystemTrust:
    """`tls: {trust: system}` (top level or per environment) or RECONCILE_TLS_TRUST=system:
    the client's context is truststore's, still refusing anything below TLS 1.2."""

    def test_the_system_context_is_truststores_and_requires_tls_1_2(self) -> None:
        context = tls_context("system")
        assert isinstance(context, truststore.SSLContext)
        assert context.minimum_version == ssl.TLSVersion.TLSv1_2
        assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
        assert not isinstance(tls_context(), truststore.SSLContext)

    @pytest.mark.parametrize(
        ("top", "own", "environ", "system"),
        [
            (Tls(), None, {}, False),
            (Tls(trust="system"), None, {}, True),
            (Tls(), Tls(trust="system"), {}, True),
            (Tls(trust="system"), Tls(trust="default"), {}, False),
            (Tls(), None, {TRUST_VARIABLE: "system"}, True),
            (Tls(trust="system"), None, {TRUST_VARIABLE: "default"}, False),
        ],
    )
    def test_the_setting_reaches_the_clients_context(
        self, top: Tls, own: Tls | None, environ: dict[str, str], system: bool
    ) -> None:
        environment = Environment(base_url="https://pb.example.com", tls=own)
        settings = Settings(tls=top, environments={"staging": environment})
        credentials = {"PB_API_KEY": "k" * 8, "PB_API_SECRET": "s" * 8}
        client, _ = connect(
            settings, "staging", catalog_dir=Path("."), environ={**credentials, **environ}
        )
        assert client.tls is not None
        assert isinstance(client.tls, truststore.SSLContext) == system
        assert client.tls.minimum_version == ssl.TLSVersion.TLSv1_2

    def test_reconcile_yaml_spelling(self, tmp_path: Path) -> None:
        """What the docs show parses (via the CLI's schema too: `validate` accepts it)."""
        (tmp_path / "reconcile.yaml").write_text(
            "client_id: C1\ntls: {trust: system}\nenvironments:\n"
            "  staging: {base_url: 'https://pb.example.com', tls: {trust: default}}\n"
        )
        assert run_cli(["validate", str(tmp_path)]).return_value == 0
        (tmp_path / "reconcile.yaml").write_text("client_id: C1\ntls: {trust: os}\n")
        refused = run_cli(["validate", str(tmp_path)])
        assert refused.return_value == 3 and "trust" in refused.output

    def test_a_wrong_variable_value_names_the_variable(self) -> None:
        settings = Settings(
            environments={"staging": Environment(base_url="https://pb.example.com")}
        )
        with pytest.raises(SettingsError, match=f"{TRUST_VARIABLE}='os' is not one of") as e:
            connect(settings, "staging", catalog_dir=Path("."), environ={TRUST_VARIABLE: "os"})
        assert e.value.exit_code == 3

    def test_the_system_store_verifies_a_real_handshake(
        self, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """truststore's context negotiates with a server whose CA the system trusts (on
        Linux the system store is OpenSSL's, which SSL_CERT_FILE stands in for here), and
        refuses one it does not."""
        with pytest.raises(ssl.SSLCertVerificationError):
            asyncio.run(probe(*certificate, ssl.TLSVersion.MAXIMUM_SUPPORTED, "system"))
        monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
        version = asyncio.run(probe(*certificate, ssl.TLSVersion.MAXIMUM_SUPPORTED, "system"))
        assert version == "TLSv1.3"
