"""Serve the emulator over real HTTP: uvicorn in a background thread on a pre-bound socket.

``start_sandbox`` assembles what ``reconcile sandbox serve`` runs (config, store, app,
server, and the banner's data); the command only prints and waits.
"""

from __future__ import annotations

import errno
import ipaddress
import json
import re
import signal
import socket
import threading
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn

from reconcile.sandbox.app import create_app
from reconcile.sandbox.config import API_PREFIX, TOKEN_PATH, SandboxConfig, check_setting
from reconcile.sandbox.database import StoreError
from reconcile.sandbox.store import Store

STARTUP_TIMEOUT = 10.0
#: What stops ``sandbox serve``: Ctrl-C, and a service manager's or CI job's SIGTERM.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
#: A DNS name whose last label is not all digits (999.1.1.1 is a bad address, not a name).
_HOST_NAME = re.compile(rf"(?:{_LABEL}\.)*(?=[a-z0-9-]*[a-z]){_LABEL}\.?")


class ListenError(RuntimeError):
    """The server cannot listen where it was asked to (the message says why)."""


class ServeError(ValueError):
    """A setting the sandbox cannot be served with (the message names the option or variable)."""


Handlers = dict[signal.Signals, Any]


class ServedSandbox:
    """A running uvicorn server; ``url`` is its base URL. Stop with ``stop()`` or ``with``."""

    def __init__(
        self,
        server: Any,
        thread: threading.Thread,
        sock: socket.socket,
        replaced_handlers: Handlers | None = None,
    ) -> None:
        self._server = server
        self._thread = thread
        self._socket = sock
        self._replaced_handlers = replaced_handlers or {}
        host, port = sock.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        self.host: str = host
        self.port: int = port
        self.url = f"http://{shown}:{port}"

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the server to exit and wait for its thread (idempotent)."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._socket.close()
        _restore(self._replaced_handlers)
        self._replaced_handlers = {}

    def wait(self) -> None:
        """Block until the server ends: a stop signal (``stop_signals``) or a failure."""
        while self._thread.is_alive():
            self._thread.join(0.5)  # a bound only: a stop signal interrupts the join at once

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def __enter__(self) -> ServedSandbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket (IPv6 when ``host`` is an IPv6 literal); port 0 = any free."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets whose proto
    # says TCP, and without it every response waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def host_problem(host: str) -> str | None:
    """Why ``host`` cannot be listened on (None when it is an IP address or a host name)."""
    try:
        ipaddress.ip_address(host.strip("[]"))
        return None
    except ValueError:
        pass
    if not _HOST_NAME.fullmatch(host.lower()) or len(host) > 253:
        return f"{host!r} is neither an IP address nor a host name (e.g. 127.0.0.1, ::1, 0.0.0.0)"
    return None


def listen_problem(host: str, port: int, error: OSError) -> str:
    """A failed bind in words: which address and port, and what to do about it."""
    where = f"{host}:{port}"
    if isinstance(error, socket.gaierror):
        return f"cannot resolve {host!r}: {error.strerror or error}"
    if error.errno == errno.EADDRINUSE:
        return f"{where} is already in use (another server?); pick another --port, or --port 0"
    if error.errno == errno.EADDRNOTAVAIL:
        return f"{host} is not an address of this machine; use 127.0.0.1 (or 0.0.0.0 for all)"
    if error.errno == errno.EACCES:
        return f"{where} needs privileges to listen on; use a port above 1023"
    return f"cannot listen on {where}: {error.strerror or error}"


def serve_in_thread(
    app: Any,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    stop_signals: Collection[signal.Signals] = (),
) -> ServedSandbox:
    """Start uvicorn serving ``app`` in a daemon thread; return once it accepts requests.

    Each of ``stop_signals`` (main thread only) asks the server to exit, from before its
    thread starts until ``stop()``: uvicorn's own handler (a second Ctrl-C forces the exit)
    sets the flag its loop polls, and the thread never receives these signals, so a wait
    in the main thread is interrupted at once. ``ListenError`` when the address cannot be
    bound (busy port, unknown host...)."""
    try:
        sock = bind(host, port)
    except OSError as e:
        raise ListenError(listen_problem(host, port, e)) from None
    config = uvicorn.Config(
        app, log_level="warning", lifespan="off", access_log=False, backlog=2048
    )
    server = uvicorn.Server(config)
    replaced = {sig: signal.signal(sig, server.handle_exit) for sig in stop_signals}
    thread = _start(server, sock, stop_signals)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            _restore(replaced)
            raise RuntimeError(f"the sandbox server did not start on {host}:{port}")
        time.sleep(0.005)
    return ServedSandbox(server, thread, sock, replaced)


def _start(
    server: Any, sock: socket.socket, blocked: Collection[signal.Signals]
) -> threading.Thread:
    """The server's thread, started with ``blocked`` masked (a thread inherits its
    creator's mask), so that those signals are always delivered to the main thread."""
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="reconcile-sandbox", daemon=True
    )
    if not blocked or not hasattr(signal, "pthread_sigmask"):  # Windows: no signal masks
        thread.start()
        return thread
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, blocked)
    try:
        thread.start()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    return thread


def _restore(handlers: Handlers) -> None:
    for sig, handler in handlers.items():
        signal.signal(sig, handler)


def is_loopback(host: str) -> bool:
    """True when ``host`` only accepts connections from this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


# ---- `reconcile sandbox serve`: options → a listening server and its banner ----


@dataclass(frozen=True)
class ServeOptions:
    """What ``sandbox serve`` was asked for (its command-line options)."""

    host: str = "127.0.0.1"
    port: int = 8765
    db: Path | None = None
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    fault_rate: float = 0.0
    seed: int | None = None
    page_max: int = 100
    token_ttl: int = 35999
    #: Runtime settings from ``--set NAME=VALUE`` (the probe's alternatives and more).
    settings: tuple[tuple[str, Any], ...] = ()


def setting_option(text: str) -> tuple[str, Any]:
    """``NAME=VALUE`` of ``--set``: VALUE read as JSON (true, 3, ["a"]), else as text;
    ``ServeError`` names the setting and why it cannot be used."""
    name, sep, raw = text.partition("=")
    name = name.strip().replace("-", "_")
    if not sep or not name:
        raise ServeError(f"--set {text!r}: write NAME=VALUE, e.g. --set results_field=items")
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw
    reason = check_setting(name, value)
    if reason:
        raise ServeError(f"--set {name}: {reason}")
    return name, tuple(value) if isinstance(value, list) else value


@dataclass(frozen=True)
class Banner:
    """What to tell the user once the server listens (the command prints it)."""

    url: str
    api_base: str
    token_url: str
    db: Path | None
    key: str
    secret: str
    credentials_from_env: bool
    #: Not a loopback address: other machines can reach it (no TLS; the credentials...).
    reachable_from_others: bool


class SandboxServer:
    """A served emulator with its store: ``wait()`` until stopped, then ``close()``."""

    def __init__(self, served: ServedSandbox, store: Store, banner: Banner) -> None:
        self.served = served
        self.store = store
        self.banner = banner

    def wait(self) -> None:
        self.served.wait()

    def close(self) -> None:
        self.served.stop()
        self.store.close()

    def __enter__(self) -> SandboxServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_sandbox(options: ServeOptions, environ: Mapping[str, str]) -> SandboxServer:
    """Open the store and serve the emulator as ``options`` say; SIGINT and SIGTERM stop it.

    ``ServeError`` for credentials, --host or --db that cannot be used, ``ListenError``
    when the address cannot be bound, ``RuntimeError`` when the server does not start.
    """
    key, secret = environ.get("PB_API_KEY"), environ.get("PB_API_SECRET")
    if bool(key) != bool(secret):
        raise ServeError("set both PB_API_KEY and PB_API_SECRET, or neither (to generate them)")
    problem = host_problem(options.host)
    if problem:
        raise ServeError(f"--host: {problem}")
    config = SandboxConfig.generate(
        key=key,
        secret=secret,
        latency_ms=options.latency_ms,
        jitter_ms=options.jitter_ms,
        fault_rate=options.fault_rate,
        seed=options.seed,
        page_max=options.page_max,
        token_ttl=options.token_ttl,
        **dict(options.settings),
    )
    try:
        store = Store(options.db or ":memory:")
    except StoreError as e:
        raise ServeError(f"--db {e.path}: {e.reason}") from None
    try:
        served = serve_in_thread(
            create_app(store, config), options.host, options.port, stop_signals=STOP_SIGNALS
        )
    except BaseException:
        store.close()
        raise
    return SandboxServer(served, store, _banner(served.url, config, options, bool(key)))


def _banner(url: str, config: SandboxConfig, options: ServeOptions, from_env: bool) -> Banner:
    return Banner(
        url=url,
        api_base=f"{url}{API_PREFIX}",
        token_url=f"{url}{TOKEN_PATH}",
        db=options.db,
        key=config.key,
        secret=config.secret,
        credentials_from_env=from_env,
        reachable_from_others=not is_loopback(options.host),
    )
