"""Transport security: which URLs may be used, and TLS 1.2 or newer for the rest."""

from __future__ import annotations

import asyncio
import ssl
import urllib.request
from urllib.parse import urlsplit

import httpx2 as httpx

from reconcile.errors import InsecureTransport
from reconcile.settings import Trust, is_loopback

MINIMUM_TLS = ssl.TLSVersion.TLSv1_2
__all__ = [
    "MINIMUM_TLS",
    "check_base_url",
    "is_loopback",
    "negotiated_tls_version",
    "proxy_for",
    "tls_context",
]


def check_base_url(url: str) -> str:
    """The base URL without a trailing slash; refuse anything that could leak secrets.

    HTTPS anywhere, plain HTTP only to a loopback address (the served sandbox).
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    hint = "set `base_url` in reconcile.yaml to an https:// URL such as https://shipping-api.pitneybowes.com"
    if parts.scheme not in ("https", "http") or not host:
        raise InsecureTransport(f"base_url {url!r} is not an http(s) URL; {hint}")
    if parts.username or parts.password:
        raise InsecureTransport(
            "base_url must not carry credentials; they come from environment variables"
        )
    if parts.query or parts.fragment:
        raise InsecureTransport(f"base_url {url!r} must not have a query or fragment; {hint}")
    if parts.scheme == "http" and not is_loopback(host):
        raise InsecureTransport(
            f"refusing plain http to {host}: credentials and tokens would cross the network "
            f"unencrypted. Plain http is allowed only for loopback addresses; {hint}"
        )
    return url.rstrip("/")


def proxy_for(url: str) -> str | None:
    """The HTTPS proxy the environment asks for (HTTPS_PROXY, minus NO_PROXY), if any.

    The value may carry proxy credentials: never log or print it.
    """
    parts = urlsplit(url)
    if parts.scheme != "https":  # plain http goes to loopback only, never through a proxy
        return None
    proxy = urllib.request.getproxies().get("https")
    if not proxy or urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    return proxy


def tls_context(trust: Trust = "default") -> ssl.SSLContext:
    """Certificate-verifying context that refuses TLS below 1.2.

    ``default``: httpx2's (SSL_CERT_FILE or SSL_CERT_DIR when set, else its platform
    default); ``system``: truststore's, which verifies with the operating system (Windows
    CryptoAPI, macOS Security framework, OpenSSL's system store on Linux), so a CA that IT
    installed for a TLS-inspecting proxy is trusted as the browser trusts it.
    """
    if trust == "system":
        import truststore

        context: ssl.SSLContext = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    else:
        context = httpx.create_ssl_context()
    context.minimum_version = MINIMUM_TLS
    return context


async def negotiated_tls_version(url: str, timeout: float, trust: Trust = "default") -> str:
    """Open a TLS connection to the URL's host and return the version agreed (e.g. TLSv1.3).

    Raises ``ssl.SSLError`` / ``OSError`` / ``TimeoutError`` when no TLS ≥ 1.2 session
    can be made.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or 443
    connecting = asyncio.open_connection(host, port, ssl=tls_context(trust), server_hostname=host)
    _, writer = await asyncio.wait_for(connecting, timeout)
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        return str(ssl_object.version()) if ssl_object else "none"
    finally:
        writer.close()
        await writer.wait_closed()
