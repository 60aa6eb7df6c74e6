"""The ASGI application: the route modules' endpoints assembled into one Starlette app.

The pipeline every request goes through lives in ``core`` (``Endpoint``); each route
module names its endpoints; this module only routes paths to them.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from reconcile.sandbox import admin, boms, inventory, merchants, notemulated, oauth, products
from reconcile.sandbox import config as c
from reconcile.sandbox.apierror import ApiError
from reconcile.sandbox.config import SandboxConfig
from reconcile.sandbox.core import Clock, Endpoint, Sandbox
from reconcile.sandbox.faults import RAW_SEND
from reconcile.sandbox.store import Store

ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
UNMATCHED_ROUTE = "(unmatched)"


class SandboxApp(Starlette):
    """Starlette app that remembers the server's raw ``send`` (for dropped connections)."""

    sandbox: Sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[RAW_SEND] = send
        await super().__call__(scope, receive, send)


def route(sandbox: Sandbox, path: str, endpoint: Endpoint) -> Route:
    """A Starlette route accepting every method, so the endpoint answers 405 itself."""

    async def serve(request: Request) -> Response:
        return await endpoint.serve(sandbox, request)

    return Route(path, serve, methods=ALL_METHODS, name=endpoint.template)


def create_app(
    store: Store,
    config: SandboxConfig,
    *,
    log_failures: bool = True,
    clock: Clock = time.time,
) -> Starlette:
    """The emulator as an ASGI app over ``store``; ``config`` is read live (and mutable).

    ``log_failures=False`` logs a failing request's traceback at debug level only (for
    the in-process sandbox, whose stderr is the user's terminal). ``clock`` (epoch
    seconds; default the system's) lets a test move time instead of waiting for it."""
    sandbox = Sandbox(store, config, log_failures=log_failures, clock=clock)
    api = c.API_PREFIX
    endpoints: list[tuple[str, Endpoint]] = [
        *oauth.endpoints(),
        *products.endpoints(api),
        *boms.endpoints(api),
        *inventory.endpoints(api),
        *merchants.endpoints(),
        *notemulated.endpoints(api),
    ]
    routes = [route(sandbox, path, ep) for path, ep in endpoints]
    routes.extend(route(sandbox, path, ep) for path, ep in admin.endpoints())
    unmatched = Endpoint(UNMATCHED_ROUTE, dict.fromkeys(ALL_METHODS, _not_found), pb=False)
    routes.append(route(sandbox, "/{path:path}", unmatched))
    app = SandboxApp(routes=routes)
    app.sandbox = sandbox
    return app


async def _not_found(sandbox: Sandbox, request: Request) -> Response:
    raise ApiError.of(
        "resource.not_found", f"No route matches {request.method} {request.url.path}."
    )


def sandbox_of(app: Any) -> Sandbox:
    """The Sandbox state behind an app made by create_app."""
    state = getattr(app, "sandbox", None)
    if not isinstance(state, Sandbox):
        raise TypeError("not an app made by reconcile.sandbox.create_app")
    return state
