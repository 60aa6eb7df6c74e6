"""``POST /oauth/token`` (contract §4): Basic key:secret, ``grant_type=client_credentials``."""

from __future__ import annotations

import base64
import binascii
import secrets
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response

from reconcile.sandbox import config as c
from reconcile.sandbox.apierror import ApiError, ErrorItem
from reconcile.sandbox.core import Endpoint, Sandbox
from reconcile.sandbox.wire import json_response


def endpoints() -> list[tuple[str, Endpoint]]:
    """The token route: at the host root, outside the Fulfillment pipeline (no token)."""
    return [(c.TOKEN_PATH, Endpoint(c.TOKEN_PATH, {"POST": issue_token}, pb=False))]


async def issue_token(sandbox: Sandbox, request: Request) -> Response:
    """A bearer token valid for ``token_ttl`` seconds; ``expiresIn`` is a string."""
    sandbox.traffic.count_token_request()
    cfg = sandbox.config
    key, secret = _basic_credentials(request.headers.get("authorization", ""))
    if not (_same(key, cfg.key) and _same(secret, cfg.secret)):
        raise ApiError(401, [ErrorItem(cfg.auth_error_code, "Invalid API key or secret.")])
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    if form.get("grant_type") != ["client_credentials"]:
        raise ApiError.of("grant_type.invalid", None, "grant_type")
    token = sandbox.tokens.issue(cfg.token_ttl)
    answer: dict[str, str] = {"access_token": token, "expiresIn": str(cfg.token_ttl)}
    if cfg.token_extra_fields:
        answer |= {
            "tokenType": "BearerToken",
            "issuedAt": str(int(sandbox.clock() * 1000)),
            "clientID": cfg.key,
            "org": cfg.organisation,
        }
    return json_response(answer)


def _basic_credentials(header: str) -> tuple[str, str]:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    key, _, secret = decoded.partition(":")
    return key, secret


def _same(given: str, expected: str) -> bool:
    return secrets.compare_digest(given.encode(), expected.encode())
