"""``reconcile doctor``: can this machine reach PB with these settings? One check per step.

Each step reports ok, failed (with a hint) or skipped (with the reason); a failed step
skips the steps that need it. Nothing is written to PB: the last step is one read-only
search of page size 1.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from reconcile.environments import connect
from reconcile.errors import (
    EXIT_OK,
    EXIT_REMOTE,
    AuthError,
    LocalSandboxError,
    RemoteError,
    SettingsError,
)
from reconcile.remote import merchants, wire
from reconcile.remote.client import PBClient
from reconcile.remote.tls import (
    MINIMUM_TLS,
    check_base_url,
    is_loopback,
    negotiated_tls_version,
    proxy_for,
)
from reconcile.settings import (
    TRUST_VARIABLE,
    Environment,
    Settings,
    credential_variables,
    developer_id_for,
    developer_id_variables,
    trust_for,
)

Status = Literal["ok", "failed", "skipped"]
#: doctor should answer quickly: a couple of attempts, not a full retry budget.
DOCTOR_RETRY_ATTEMPTS = 2
DOCTOR_RETRY_TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    hint: str = ""
    exit_code: int = EXIT_OK


def _failed(name: str, detail: str, hint: str, exit_code: int = EXIT_REMOTE) -> Check:
    return Check(name, "failed", detail, hint, exit_code)


def exit_code(checks: list[Check]) -> int:
    """The first failed check's code (3 for settings, 4 for remote), else 0."""
    return next((c.exit_code for c in checks if c.status == "failed"), EXIT_OK)


async def run_checks(
    settings: Settings, env_name: str | None, *, catalog_dir: Path, environ: Mapping[str, str]
) -> list[Check]:
    """Every check for one environment, in order, stopping where later ones cannot run."""
    try:
        name, environment = settings.environment(env_name)
    except SettingsError as e:
        return [_failed("environment", str(e), "use --env with a defined name", e.exit_code)]
    checks = [_environment_check(name, environment)]
    credentials = _credentials_check(name, environment, environ)
    checks.append(credentials)
    transport = _transport_check(environment)
    checks.append(transport)
    if transport.status == "failed":
        return checks
    timeout = settings.limits.connect_timeout_seconds
    checks.append(await _tls_check(environment, timeout, settings, environ))
    if credentials.status == "failed":
        return [
            *checks,
            _skipped("token", "needs credentials"),
            _skipped("search", "needs a token"),
        ]
    quick = settings.model_copy(
        update={
            "limits": settings.limits.model_copy(
                update={
                    "retry_attempts": DOCTOR_RETRY_ATTEMPTS,
                    "retry_timeout_seconds": DOCTOR_RETRY_TIMEOUT_SECONDS,
                }
            )
        }
    )
    client, _ = connect(quick, name, catalog_dir=catalog_dir, environ=environ)
    try:
        async with client:
            token = await _token_check(client)
            checks.append(token)
            if token.status == "failed":
                return [*checks, _skipped("search", "needs a token")]
            refusal = _RefusalCause(client, name, environment, environ)
            checks.append(await _search_check(client, settings.client_id, refusal))
    except LocalSandboxError as e:  # the embedded state: unusable, or another run holds it
        hint = "the message says what to do"
        return [*checks, _failed("state", e.message, hint), _skipped("token", "needs the state")]
    return checks


def _skipped(name: str, why: str) -> Check:
    return Check(name, "skipped", why)


def _environment_check(name: str, environment: Environment) -> Check:
    where = "the embedded sandbox (in-process)" if environment.embedded else environment.base_url
    return Check("environment", "ok", f"{name!r}: {where}")


def _credentials_check(name: str, environment: Environment, environ: Mapping[str, str]) -> Check:
    if environment.embedded:
        return Check("credentials", "ok", "generated for the embedded sandbox")
    for key_var, secret_var in credential_variables(name):
        if environ.get(key_var) and environ.get(secret_var):
            return Check("credentials", "ok", f"read from {key_var} and {secret_var}")
    (key_var, secret_var), (generic_key, generic_secret) = credential_variables(name)
    return _failed(
        "credentials",
        f"none set for environment {name!r}",
        f"export {key_var} and {secret_var} (or {generic_key} and {generic_secret}) with the "
        "API key and secret from PB's Developer Hub",
    )


def _transport_check(environment: Environment) -> Check:
    if environment.embedded:
        return Check("transport", "ok", "in-process, no network")
    try:
        url = check_base_url(environment.base_url or "")
    except RemoteError as e:
        return _failed("transport", e.message, "use https:// (plain http only for 127.0.0.1)")
    if url.startswith("http://"):
        return Check("transport", "ok", "plain http to a loopback address")
    return Check("transport", "ok", f"https with TLS {_tls_name(MINIMUM_TLS)} or newer required")


async def _tls_check(
    environment: Environment, timeout: float, settings: Settings, environ: Mapping[str, str]
) -> Check:
    url = environment.base_url or ""
    if environment.embedded or urlsplit(url).scheme == "http":
        where = "embedded" if environment.embedded else "loopback http"
        return _skipped("tls", f"{where}: no TLS to check")
    host = urlsplit(url).hostname or ""
    if proxy_for(url):
        return _skipped(
            "tls",
            "through the HTTPS proxy from HTTPS_PROXY: TLS 1.2+ is enforced by the token check",
        )
    try:
        trust = trust_for(settings, environment, environ)
    except SettingsError as e:
        return _failed("tls", str(e), f"unset {TRUST_VARIABLE} or set it to system")
    try:
        version = await negotiated_tls_version(url, timeout, trust)
    except ssl.SSLError as e:
        hint = (
            f"{host} must offer TLS {_tls_name(MINIMUM_TLS)}+ with a certificate this machine "
            "trusts (behind a TLS-inspecting proxy: set `tls: {trust: system}` in "
            f"reconcile.yaml or {TRUST_VARIABLE}=system, or SSL_CERT_FILE to its CA bundle)"
        )
        return _failed("tls", f"no TLS session with {host}: {e}", hint)
    except (OSError, TimeoutError) as e:
        hint = "check the host name, DNS and firewall; behind a proxy, set HTTPS_PROXY"
        if is_loopback(host):
            hint = "is the local server running?"
        return _failed("tls", f"cannot reach {host}: {e or type(e).__name__}", hint)
    store = " (the system's trust store)" if trust == "system" else ""
    return Check("tls", "ok", f"{host} negotiated {version}{store}")


async def _token_check(client: PBClient) -> Check:
    try:
        lifetime = await client.check_token()
    except AuthError as e:
        return _failed("token", str(e), "check the key and secret belong to this environment")
    except RemoteError as e:
        hint = "is PB reachable from here? (proxy, firewall, base_url)"
        return _failed("token", str(e), _unavailable_hint(e) or hint)
    return Check("token", "ok", f"issued, valid for {lifetime:.0f} s")


class _RefusalCause:
    """What a 401/403 of the search means: the merchants call (outside the Fulfillment
    prefix) tells bad credentials from Fulfillment not being enabled (contract §15)."""

    def __init__(
        self, client: PBClient, name: str, environment: Environment, environ: Mapping[str, str]
    ) -> None:
        self._client = client
        self._developer_id = developer_id_for(name, environment, environ)
        self._variables = " or ".join(developer_id_variables(name))

    async def __call__(self) -> str:
        developer_id = self._developer_id
        fetch = None
        if developer_id is not None:

            async def fetch(page: int) -> dict[str, object]:
                return await self._client.merchants_page(developer_id, page, 1)

        return await merchants.refusal_cause(fetch, self._variables)


async def _search_check(client: PBClient, client_id: str | None, refusal: _RefusalCause) -> Check:
    if not client_id:
        return _skipped("search", "no `client_id` in reconcile.yaml to search with")
    try:
        page = await client.search_products_page(client_id, wire.FIRST_PAGE, 1)
    except RemoteError as e:
        if _unavailable_hint(e) is None and e.status in (401, 403):
            return _failed("search", str(e), await refusal())
        return _failed("search", str(e), _search_hint(e))
    total = page.get("totalElements")
    seen = f"{total} products visible" if isinstance(total, int) else "answered"
    return Check("search", "ok", f"read-only product search for {client_id!r}: {seen}")


def _search_hint(error: RemoteError) -> str:
    """What to do about a failed search: only a refusal (401/403) is about access."""
    unavailable = _unavailable_hint(error)
    if unavailable:
        return unavailable
    if isinstance(error, AuthError) or error.status in (401, 403):
        return "ask PB to enable the Fulfillment APIs for this account and client id"
    if error.status is not None:
        return "PB refused the search: check client_id in reconcile.yaml and base_url"
    return "is PB reachable from here? (proxy, firewall, base_url)"


def _unavailable_hint(error: RemoteError) -> str | None:
    """For PB failing on its side (5xx, 429): retry later; nothing to fix here."""
    if error.status is not None and (error.status >= 500 or error.status == 429):
        return f"PB is unavailable right now (HTTP {error.status}); retry later"
    return None


def _tls_name(version: ssl.TLSVersion) -> str:
    return version.name.replace("TLSv", "").replace("_", ".")
