"""Environment name → a ready ``PBClient``: over the network, or the embedded sandbox.

An embedded environment (``local``) runs the sandbox emulator in-process, handed to the
same client as its transport (``remote.inprocess``), with its state in
``<catalog>/.reconcile/sandbox.db`` and a random key and secret, so authentication is
exercised exactly as against PB. While its client is open, a run holds
``<catalog>/.reconcile/lock`` (an exclusive lock: ``flock`` on Unix, ``LockFileEx`` on
Windows, through ``filelock``): a second run against the same
state fails fast (``LocalSandboxError``, exit 4) instead of planning against writes it
cannot see. The in-process emulator is not PB, so its client has no rate limit and a
wider in-flight bound. Any other environment reads its credentials from environment
variables and must use a safe URL (``tls.check_base_url``).
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import SecretStr

from reconcile.errors import LocalSandboxError
from reconcile.remote.client import PBClient
from reconcile.remote.inprocess import ASGIApp, InProcessTransport
from reconcile.remote.ratelimit import Pacer
from reconcile.remote.tls import check_base_url
from reconcile.settings import (
    Credentials,
    Settings,
    credential_variables,
    credentials_for,
    trust_for,
)

if TYPE_CHECKING:  # the emulator (starlette) is loaded only when `local` is used
    from reconcile.sandbox import SandboxConfig, Store

SANDBOX_DIR = ".reconcile"
SANDBOX_FILE = "sandbox.db"
LOCK_FILE = "lock"
#: The in-process emulator answers from SQLite in this process: no rate limit, and as
#: many requests in flight as the client's largest fan-out usefully overlaps.
EMBEDDED_REQUESTS_PER_SECOND = math.inf
EMBEDDED_MAX_IN_FLIGHT = 64
EMBEDDED_URL = "http://sandbox.embedded"  # never resolved: the transport is in-process
EMBEDDED = "embedded"


@dataclass(frozen=True)
class ConnectionInfo:
    """Where a client talks to, for plan headers and messages (no secrets)."""

    environment: str
    base_url: str  # "embedded" for the in-process sandbox
    #: Absolute, so a plan saved from one directory names the same file from any other.
    sandbox_file: str | None = None

    @property
    def embedded(self) -> bool:
        return self.base_url == EMBEDDED


def sandbox_path(catalog_dir: Path) -> Path:
    return catalog_dir / SANDBOX_DIR / SANDBOX_FILE


def lock_path(catalog_dir: Path) -> Path:
    return catalog_dir / SANDBOX_DIR / LOCK_FILE


def _start_over(catalog_dir: Path) -> str:
    return f"delete {catalog_dir / SANDBOX_DIR}/ to start over (it only holds this state)"


def connect(
    settings: Settings,
    env_name: str | None,
    *,
    catalog_dir: Path,
    environ: Mapping[str, str],
    run_id: str | None = None,
) -> tuple[PBClient, ConnectionInfo]:
    """A client for the named (or default) environment; enter it with ``async with``."""
    name, environment = settings.environment(env_name)
    if environment.embedded:
        return _embedded(settings, name, catalog_dir, run_id)
    base_url = check_base_url(environment.base_url or "")
    trust = trust_for(settings, environment, environ)
    credentials = credentials_for(name, environ)
    specific, generic = credential_variables(name)
    # The pair credentials_for read: the environment's own when complete, else the generic.
    read = specific if all(environ.get(var) for var in specific) else generic
    client = PBClient(
        base_url=base_url,
        credentials=credentials,
        limits=settings.limits,
        environment=name,
        run_id=run_id,
        credential_vars=read,
        trust=trust,
    )
    return client, ConnectionInfo(environment=name, base_url=base_url)


def _embedded(
    settings: Settings, name: str, catalog_dir: Path, run_id: str | None
) -> tuple[PBClient, ConnectionInfo]:
    from reconcile.sandbox import SandboxConfig

    path = sandbox_path(catalog_dir).resolve()
    config = SandboxConfig.generate()
    client = PBClient(
        base_url=EMBEDDED_URL,
        credentials=Credentials(SecretStr(config.key), SecretStr(config.secret)),
        limits=settings.limits,
        environment=name,
        transport=InProcessTransport(LocalSandbox(catalog_dir.resolve(), config)),
        run_id=run_id,
        pacer=Pacer(EMBEDDED_REQUESTS_PER_SECOND, EMBEDDED_MAX_IN_FLIGHT),
    )
    return client, ConnectionInfo(environment=name, base_url=EMBEDDED, sandbox_file=str(path))


class LocalSandbox:
    """The in-process sandbox of one catalog, as the app of its client's transport.

    Opening it (when the client is entered) takes the state's lock, then opens the state
    (``LocalSandboxError``, exit 4, when either cannot be had); closing it (with the
    client) closes the state and releases the lock.
    """

    def __init__(self, catalog_dir: Path, config: SandboxConfig) -> None:
        self.catalog_dir = catalog_dir
        self.config = config
        self._lock_file = lock_path(catalog_dir)
        self._store: Store | None = None

    def open(self) -> ASGIApp:
        from reconcile.sandbox import Store, StoreError, create_app

        take_lock(self._lock_file)
        try:
            self._store = Store(sandbox_path(self.catalog_dir))
        except StoreError as e:
            give_lock(self._lock_file)
            fix = "make it writable, or " if e.read_only else ""
            raise LocalSandboxError(
                f"{e.path} is unusable: {e.reason}; {fix}{_start_over(self.catalog_dir)}",
                operation="local sandbox",
            ) from None
        app: ASGIApp = create_app(self._store, self.config, log_failures=False)
        return app

    def close(self) -> None:
        try:
            if self._store is not None:
                self._store.close()
                self._store = None
        finally:
            give_lock(self._lock_file)


def copy_sandbox(source: Path, out_dir: Path) -> Path:
    """Give the new catalog a consistent copy of the embedded sandbox it was imported from,
    so that it plans against the same state (safe while in use)."""
    target = sandbox_path(out_dir)
    if target.resolve() == source.resolve():
        return target
    from reconcile.sandbox import copy_state

    make_state_dir(target.parent)
    copy_state(source, target)
    return target


# ---- the state's lock ----------------------------------------------------------------------

#: How long a process keeps the lock after its last client closed: `apply` plans with one
#: client and writes with the next, and no other run may slip in between.
LOCK_LINGER_SECONDS = 5.0


@dataclass
class _Held:
    fd: int
    in_use: bool = True
    timer: threading.Timer | None = None


_HELD: dict[Path, _Held] = {}
_GUARD = threading.Lock()


def take_lock(path: Path) -> None:
    """Hold ``path``'s lock for one client: taken from another process's release, or over
    from this process's previous client (a lingering lock), never shared by two open ones."""
    with _GUARD:
        held = _HELD.get(path)
        if held is None:
            _HELD[path] = _Held(hold_lock(path))
            return
        if held.in_use:
            raise _busy(path, str(os.getpid()))
        held.in_use = True
        if held.timer is not None:
            held.timer.cancel()
            held.timer = None


def give_lock(path: Path, linger: float = LOCK_LINGER_SECONDS) -> None:
    """One client is done with ``path``'s lock; the process lets go of it after ``linger``
    seconds (at once if 0) unless another of its clients takes it over (process exit lets
    go at once)."""
    with _GUARD:
        held = _HELD.get(path)
        if held is None or not held.in_use:
            return
        held.in_use = False
        if linger <= 0:
            _release(path, held)
            return
        held.timer = threading.Timer(linger, _let_go, (path, held))
        held.timer.daemon = True
        held.timer.start()


def _let_go(path: Path, held: _Held) -> None:
    with _GUARD:
        if _HELD.get(path) is held and not held.in_use:
            _release(path, held)


def _release(path: Path, held: _Held) -> None:
    del _HELD[path]
    os.close(held.fd)  # closing the descriptor releases the flock


def _busy(path: Path, holder: str) -> LocalSandboxError:
    by = f" (process {holder})" if holder.isdigit() else ""
    return LocalSandboxError(
        f"another reconcile run{by} is using the local sandbox of {path.parent.parent} (it "
        f"holds {path}); runs against `local` cannot overlap: wait for it to finish, then "
        "run again",
        operation="local sandbox",
    )


def hold_lock(path: Path) -> int:
    """An exclusive, non-blocking lock on ``path`` (created if needed); its descriptor.

    ``filelock``'s native primitive: ``flock`` on Unix, ``LockFileEx`` on byte 0 on
    Windows. The lock lives as long as the descriptor (or the process): a crashed run
    leaves the file behind but never a held lock. The holder's pid follows byte 0, so
    another process can read it on Windows too, where the locked byte cannot be read.
    """
    from filelock import lock_descriptor

    fd = _open_lock_file(path)
    try:
        taken = lock_descriptor(fd, blocking=False)
    except OSError as e:
        os.close(fd)
        raise LocalSandboxError(
            f"cannot lock {path}: {e.strerror or e}", operation="local sandbox"
        ) from None
    if not taken:
        holder = _read_holder(fd)
        os.close(fd)
        raise _busy(path, holder)
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, f" {os.getpid()}\n".encode())
    return fd


def _open_lock_file(path: Path) -> int:
    catalog = path.parent.parent
    try:
        make_state_dir(path.parent)
        return os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o644)
    except OSError as e:
        why = e.strerror or str(e)
        if isinstance(e, FileExistsError | NotADirectoryError):
            why = f"{path.parent} is a file, not a directory"
        raise LocalSandboxError(
            f"cannot create the lock file {path}: {why}; {_start_over(catalog)}",
            operation="local sandbox",
        ) from None


def _read_holder(fd: int) -> str:
    """The pid another process wrote into the lock file ("" when unreadable)."""
    try:
        os.lseek(fd, 1, os.SEEK_SET)  # past byte 0, which Windows keeps locked
        return os.read(fd, 32).decode("ascii", "replace").strip()
    except OSError:
        return ""


#: The whole of ``.reconcile/.gitignore``: local state never goes into git.
STATE_GITIGNORE = "# reconcile's local state (the embedded sandbox, its lock): never commit.\n*\n"


def make_state_dir(state_dir: Path) -> None:
    """Create ``.reconcile/`` if needed; the first time, with a ``.gitignore`` of ``*``,
    so any catalog repository ignores the local state without configuration."""
    if state_dir.is_dir():
        return
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / ".gitignore").write_text(STATE_GITIGNORE, encoding="utf-8")
