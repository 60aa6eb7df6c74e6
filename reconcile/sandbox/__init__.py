"""The local emulator of the PB Fulfillment API: an ASGI app over a SQLite store.

An independent implementation of the contract (``shared/api/pb-fulfillment-api.md``): it
imports nothing from ``reconcile.models``, ``reconcile.remote`` or ``reconcile.plan``, so
the client and the emulator cannot agree by accident. Every decision the PB documentation
leaves open is one named setting in ``reconcile.sandbox.config``.

In-process: ``httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(store, cfg)))``.
Over HTTP: ``with serve_in_thread(create_app(store, cfg)) as served: served.url``.
"""

from reconcile.sandbox.app import create_app, sandbox_of
from reconcile.sandbox.config import SandboxConfig
from reconcile.sandbox.database import StoreError
from reconcile.sandbox.embedded import copy_state
from reconcile.sandbox.faults import DropConnection
from reconcile.sandbox.server import ServedSandbox, serve_in_thread
from reconcile.sandbox.store import Store

__all__ = [
    "DropConnection",
    "SandboxConfig",
    "ServedSandbox",
    "Store",
    "StoreError",
    "copy_state",
    "create_app",
    "sandbox_of",
    "serve_in_thread",
]
