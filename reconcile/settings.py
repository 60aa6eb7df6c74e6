"""reconcile.yaml: environments, defaults, limits, safety thresholds.

The file is parsed by ``reconcile.desired`` (the only YAML reader) and validated here.
Credentials never live in it: they come from ``PB_API_KEY`` / ``PB_API_SECRET``, or the
per-environment ``PB_<ENV>_API_KEY`` / ``PB_<ENV>_API_SECRET``, which win when set.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Literal, get_args
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from reconcile.errors import AuthError, SettingsError

SETTINGS_FILE = "reconcile.yaml"
LOCAL = "local"

_CLOSED = ConfigDict(strict=True, extra="forbid", frozen=True)

PB_SANDBOX_URL = "https://shipping-api-sandbox.pitneybowes.com"
PB_PRODUCTION_URL = "https://shipping-api.pitneybowes.com"


_URL_HINT = "write it like https://shipping-api-sandbox.pitneybowes.com"
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost: traffic that never leaves the machine."""
    host = host.strip("[]").lower()
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(url: str) -> str:
    """Refuse a base_url reconcile would refuse to call, at reconcile.yaml's line.

    https anywhere, plain http only to a loopback host (127.0.0.0/8, ::1, localhost);
    a host is required; no credentials, query or fragment. A path is kept as a prefix
    of PB's paths (e.g. an API gateway's). The client checks again before sending.
    """
    try:
        parts = urlsplit(url)
        host, _port = parts.hostname, parts.port
    except ValueError as e:
        raise ValueError(f"{url!r} is not a valid URL ({e}); {_URL_HINT}") from None
    if parts.scheme not in ("https", "http") or not host:
        raise ValueError(f"{url!r} is not an https:// URL with a host; {_URL_HINT}")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not carry credentials; they come from environment variables")
    if parts.query or parts.fragment:
        raise ValueError(f"{url!r} must not have a query or fragment; {_URL_HINT}")
    if parts.scheme == "http" and not is_loopback(host):
        raise ValueError(
            f"plain http to {host} would send credentials unencrypted; use https "
            "(http is allowed only for loopback hosts: 127.0.0.0/8, ::1, localhost)"
        )
    return url


#: Which certificates a TLS connection to PB trusts: ``default`` (SSL_CERT_FILE or
#: SSL_CERT_DIR when set, else the HTTP library's default) or ``system`` (the operating
#: system's store and verifier, through truststore: what a TLS-inspecting proxy's CA is
#: installed in).
Trust = Literal["default", "system"]
TRUST_VARIABLE = "RECONCILE_TLS_TRUST"


class Tls(BaseModel):
    """How TLS connections to PB are verified (TLS 1.2 or newer is always required)."""

    model_config = _CLOSED

    trust: Trust = Field(
        default="default",
        description="certificates trusted: default (SSL_CERT_FILE/SSL_CERT_DIR when set, "
        "else the HTTP library's) or system (the operating system's store, e.g. behind a "
        f"proxy that inspects TLS); {TRUST_VARIABLE} overrides it",
    )


class Environment(BaseModel):
    """Where to reconcile: PB's host (`base_url`) or the embedded sandbox."""

    model_config = _CLOSED

    base_url: Annotated[str, AfterValidator(check_base_url)] | None = Field(
        default=None,
        description="PB host, e.g. https://shipping-api-sandbox.pitneybowes.com; "
        "the token is read from {base_url}/oauth/token. https, or http to a loopback "
        "host only; no credentials, query or fragment; a path is a prefix of PB's paths",
    )
    embedded: bool = Field(default=False, description="run the sandbox emulator in-process")
    require_plan_file: bool = Field(
        default=False, description="apply only a saved, reviewed plan (apply --plan FILE)"
    )
    tls: Tls | None = Field(default=None, description="overrides the top-level `tls`")
    developer_id: str | None = Field(
        default=None,
        min_length=1,
        description="PB developer id (Developer Hub → Your Account), for `reconcile merchants` "
        "and the probe; PB_<ENV>_DEVELOPER_ID wins over it, PB_DEVELOPER_ID fills it in",
    )

    @model_validator(mode="after")
    def _one_target(self) -> Environment:
        if self.embedded == (self.base_url is not None):
            raise ValueError("set exactly one of `base_url` or `embedded: true`")
        return self


#: The developer id whose merchants the embedded emulator serves (its fixtures).
EMBEDDED_DEVELOPER_ID = "sandbox-developer"
#: DOC (Fulfillment overview, Fulfillment Centers table): CVG, ID 157, the only row listed.
DOCUMENTED_FULFILLMENT_CENTERS: tuple[str, ...] = ("157",)

BUILTIN_ENVIRONMENTS: dict[str, Environment] = {
    LOCAL: Environment(embedded=True, developer_id=EMBEDDED_DEVELOPER_ID),
    "sandbox": Environment(base_url=PB_SANDBOX_URL),
    "production": Environment(base_url=PB_PRODUCTION_URL, require_plan_file=True),
}


#: An environment's target: a user entry setting either replaces both of the built-in's.
_TARGET_FIELDS = frozenset({"base_url", "embedded"})


def merge_builtin(name: str, entry: object) -> object:
    """A user entry named like a built-in environment, merged over the built-in.

    Fields the entry does not set keep the built-in's values (so `production` keeps
    `require_plan_file: true` unless the entry says false); setting `base_url` or
    `embedded` replaces the target as a whole. Anything but a mapping is returned as
    given, for validation to report.
    """
    builtin = BUILTIN_ENVIRONMENTS.get(name)
    if isinstance(entry, Environment):
        entry = {f: getattr(entry, f) for f in entry.model_fields_set}
    if builtin is None or not isinstance(entry, dict):
        return entry
    inherited = {f: getattr(builtin, f) for f in builtin.model_fields_set}
    if _TARGET_FIELDS & entry.keys():
        inherited = {f: v for f, v in inherited.items() if f not in _TARGET_FIELDS}
    return {**inherited, **entry}


#: A request may wait this long at most (connect, read, write, a free connection).
_MAX_TIMEOUT = 600


class Limits(BaseModel):
    """Throughput and patience. Every value has a floor and a ceiling: a rate of 0.01
    per second, or a retry budget of days, would look like a hung run."""

    model_config = _CLOSED

    requests_per_second: Annotated[float, Field(ge=1, le=100)] = Field(
        default=50.0, description="shared rate limit for all requests of a run (PB: 100 TPS)"
    )
    max_in_flight: Annotated[int, Field(ge=1, le=64)] = 8
    page_size: Annotated[int, Field(ge=1, le=1000)] = 100
    bulk_size: Annotated[int, Field(ge=1, le=200)] = 200
    retry_attempts: Annotated[int, Field(ge=1, le=20)] = Field(
        default=5, description="attempts of one write (each retry is checked for a lost write)"
    )
    read_retry_attempts: Annotated[int, Field(ge=1, le=50)] = Field(
        default=10,
        description="attempts of one read (reads are idempotent: they get more than writes)",
    )
    retry_timeout_seconds: Annotated[float, Field(ge=0.1, le=3600)] = Field(
        default=120.0, description="longest time spent retrying one request"
    )
    retry_wait_initial_seconds: Annotated[float, Field(ge=0.01, le=60)] = Field(
        default=0.5, description="first backoff between retries; doubles each retry, plus jitter"
    )
    retry_wait_max_seconds: Annotated[float, Field(ge=0.01, le=300)] = Field(
        default=10.0, description="longest backoff between two retries (Retry-After may ask more)"
    )
    connect_timeout_seconds: Annotated[float, Field(ge=1, le=_MAX_TIMEOUT)] = 10.0
    read_timeout_seconds: Annotated[float, Field(ge=1, le=_MAX_TIMEOUT)] = 60.0
    write_timeout_seconds: Annotated[float, Field(ge=1, le=_MAX_TIMEOUT)] = 60.0
    pool_timeout_seconds: Annotated[float, Field(ge=1, le=_MAX_TIMEOUT)] = Field(
        default=60.0, description="longest wait for a free connection"
    )
    request_deadline_seconds: Annotated[float, Field(ge=1, le=_MAX_TIMEOUT)] = Field(
        default=300.0,
        description="longest one attempt may take in all: connect, send and the whole answer",
    )
    max_response_bytes: Annotated[int, Field(ge=1024, le=2_000_000_000)] = Field(
        default=64_000_000, description="answers larger than this are refused (nothing written)"
    )
    max_search_pages: Annotated[int, Field(ge=1, le=1_000_000)] = Field(
        default=20_000,
        description="hard ceiling on the pages of one search, whatever the answer announces",
    )
    max_file_bytes: Annotated[int, Field(ge=1)] = Field(
        default=5_000_000, description="catalog files larger than this are refused unread"
    )
    max_depth: Annotated[int, Field(ge=8, le=1000)] = Field(
        default=64, description="YAML nesting deeper than this is refused (no recursion bombs)"
    )

    @model_validator(mode="after")
    def _waits_in_order(self) -> Limits:
        if self.retry_wait_initial_seconds > self.retry_wait_max_seconds:
            raise ValueError(
                f"retry_wait_initial_seconds ({self.retry_wait_initial_seconds}) is more than "
                f"retry_wait_max_seconds ({self.retry_wait_max_seconds}); lower the first"
            )
        return self


class Safety(BaseModel):
    model_config = _CLOSED

    max_update_fraction: Annotated[float, Field(ge=0, le=1)] = 0.30
    max_deactivate_fraction: Annotated[float, Field(ge=0, le=1)] = 0.10
    min_existing: Annotated[int, Field(ge=0)] = Field(
        default=10, description="fractions apply only when at least this many exist remotely"
    )


class Settings(BaseModel):
    model_config = _CLOSED

    client_id: str | None = Field(
        default=None, description="PB client id used by resources that do not name one"
    )
    default_environment: str = LOCAL
    environments: dict[str, Environment] = Field(
        default_factory=dict,
        description="named targets; an entry named local, sandbox or production is merged "
        "over the built-in one (unset fields keep the built-in values)",
    )
    limits: Limits = Field(default_factory=Limits)
    safety: Safety = Field(default_factory=Safety)
    prune: bool = Field(default=False, description="deactivate remote resources not declared")
    tls: Tls = Field(default_factory=Tls, description="TLS verification for every environment")
    fulfillment_centers: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list,
        description="fulfillment-center ids a BOM `node` may name besides the documented "
        "ones (157, CVG); another node is a validate warning",
    )

    @field_validator("environments", mode="before")
    @classmethod
    def _merge_builtins(cls, value: object) -> object:
        if not isinstance(value, dict):
            return value
        return {name: merge_builtin(name, entry) for name, entry in value.items()}

    @model_validator(mode="after")
    def _default_environment_exists(self) -> Settings:
        if self.default_environment not in self.all_environments():
            known = ", ".join(sorted(self.all_environments()))
            raise ValueError(
                f"default_environment {self.default_environment!r} is not defined (known: {known})"
            )
        return self

    def all_environments(self) -> dict[str, Environment]:
        return {**BUILTIN_ENVIRONMENTS, **self.environments}

    def environment(self, name: str | None) -> tuple[str, Environment]:
        name = name or self.default_environment
        envs = self.all_environments()
        if name not in envs:
            raise SettingsError(
                f"{SETTINGS_FILE}: unknown environment {name!r}; "
                f"define it under `environments:` (known: {', '.join(sorted(envs))})"
            )
        return name, envs[name]


def trust_for(settings: Settings, environment: Environment, environ: Mapping[str, str]) -> Trust:
    """The trust store of one environment: RECONCILE_TLS_TRUST, else the environment's
    `tls.trust`, else the top-level one (a per-machine choice need not touch the file)."""
    value = environ.get(TRUST_VARIABLE, "").strip().lower()
    if not value:
        return (environment.tls or settings.tls).trust
    trusts: dict[str, Trust] = {t: t for t in get_args(Trust)}
    if value not in trusts:
        raise SettingsError(
            f"{TRUST_VARIABLE}={value!r} is not one of {', '.join(trusts)}; "
            "use system to trust the operating system's certificate store"
        )
    return trusts[value]


@dataclass(frozen=True)
class Credentials:
    key: SecretStr
    secret: SecretStr

    def __repr__(self) -> str:
        return "Credentials(key=**********, secret=**********)"


def credential_variables(env_name: str) -> tuple[tuple[str, str], tuple[str, str]]:
    """The (per-environment, generic) variable names for an environment's key and secret."""
    slug = re.sub(r"[^A-Z0-9]", "_", env_name.upper())
    return (
        (f"PB_{slug}_API_KEY", f"PB_{slug}_API_SECRET"),
        ("PB_API_KEY", "PB_API_SECRET"),
    )


def credentials_for(env_name: str, environ: Mapping[str, str]) -> Credentials:
    """Read an environment's credentials; the error names the variables, never values.

    The per-environment pair wins when complete. Half a pair (a key without its secret,
    or the reverse) is an error naming the missing variable: falling back to the other
    pair could send one environment's requests with another's credentials.
    """
    specific, generic = credential_variables(env_name)
    for key_var, secret_var in (specific, generic):
        key, secret = environ.get(key_var), environ.get(secret_var)
        if key and secret:
            return Credentials(SecretStr(key), SecretStr(secret))
        if key or secret:
            present, missing = (key_var, secret_var) if key else (secret_var, key_var)
            raise AuthError(
                f"incomplete credentials for environment {env_name!r}: {present} is set but "
                f"{missing} is not; set {missing} too",
                operation="credentials",
            )
    raise AuthError(
        f"no credentials for environment {env_name!r}: set {specific[0]} and {specific[1]} "
        f"(or {generic[0]} and {generic[1]})",
        operation="credentials",
    )


def known_fulfillment_centers(settings: Settings) -> tuple[str, ...]:
    """The documented center ids, then those reconcile.yaml adds."""
    extra = [c for c in settings.fulfillment_centers if c not in DOCUMENTED_FULFILLMENT_CENTERS]
    return (*DOCUMENTED_FULFILLMENT_CENTERS, *extra)


def developer_id_variables(env_name: str) -> tuple[str, str]:
    """The (per-environment, generic) variables that can hold the developer id."""
    slug = re.sub(r"[^A-Z0-9]", "_", env_name.upper())
    return f"PB_{slug}_DEVELOPER_ID", "PB_DEVELOPER_ID"


def developer_id_for(
    env_name: str, environment: Environment, environ: Mapping[str, str]
) -> str | None:
    """PB_<ENV>_DEVELOPER_ID, else the environment's `developer_id`, else PB_DEVELOPER_ID."""
    specific, generic = developer_id_variables(env_name)
    return environ.get(specific) or environment.developer_id or environ.get(generic) or None
