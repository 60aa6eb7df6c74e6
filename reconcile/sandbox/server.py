"""Serve the emulator over real HTTP: uvicorn in a background thread on a pre-bound socket."""

from __future__ import annotations

import errno
import ipaddress
import re
import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn

STARTUP_TIMEOUT = 10.0
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
#: A DNS name whose last label is not all digits (999.1.1.1 is a bad address, not a name).
_HOST_NAME = re.compile(rf"(?:{_LABEL}\.)*(?=[a-z0-9-]*[a-z]){_LABEL}\.?")


class ListenError(RuntimeError):
    """The server cannot listen where it was asked to (the message says why)."""


class ServedSandbox:
    """A running uvicorn server; ``url`` is its base URL. Stop with ``stop()`` or ``with``."""

    def __init__(self, server: Any, thread: threading.Thread, sock: socket.socket) -> None:
        self._server = server
        self._thread = thread
        self._socket = sock
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


def serve_in_thread(app: Any, host: str = "127.0.0.1", port: int = 0) -> ServedSandbox:
    """Start uvicorn serving ``app`` in a daemon thread; return once it accepts requests.

    ``ListenError`` when the address cannot be bound (busy port, unknown host...)."""
    try:
        sock = bind(host, port)
    except OSError as e:
        raise ListenError(listen_problem(host, port, e)) from None
    config = uvicorn.Config(
        app, log_level="warning", lifespan="off", access_log=False, backlog=2048
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="reconcile-sandbox", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError(f"the sandbox server did not start on {host}:{port}")
        time.sleep(0.005)
    return ServedSandbox(server, thread, sock)


def is_loopback(host: str) -> bool:
    """True when ``host`` only accepts connections from this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
