"""Checks of the account: the token answer, merchants, and access to Fulfillment."""

from __future__ import annotations

from reconcile.errors import RemoteError
from reconcile.probe.check import Verdict, failed, keys_of, passed, shown, unknown
from reconcile.probe.session import Probe, answered
from reconcile.remote import merchants, wire
from reconcile.remote.raw import Exchange


async def token(probe: Probe, exchanges: list[Exchange]) -> Verdict:
    """A token is issued; its answer's ``expiresIn`` is a string or a number."""
    try:
        lifetime = await probe.client.check_token()
    except RemoteError as e:
        return failed(f"{e}; check the key and secret belong to this environment")
    answers = [e for e in exchanges if e.url.endswith(wire.TOKEN_PATH) and e.status == 200]
    body = answers[-1].response_body if answers else None
    if not isinstance(body, dict):
        return passed(f"issued, valid for {lifetime:.0f} s (answer not seen)")
    value = body.get(wire.TOKEN_EXPIRY_FIELD)
    if value is None:
        return failed(
            f"no `{wire.TOKEN_EXPIRY_FIELD}` (keys: {keys_of(body)}): reconcile assumes "
            f"{wire.TOKEN_DEFAULT_TTL_SECONDS:.0f} s and refreshes once on a 401"
        )
    kind = "a string" if isinstance(value, str) else "a number"
    if lifetime <= 0 or isinstance(value, bool) or not isinstance(value, str | int | float):
        return failed(f"`{wire.TOKEN_EXPIRY_FIELD}` is {shown(value)}, not a lifetime in seconds")
    return passed(f"`{wire.TOKEN_EXPIRY_FIELD}` is {kind} ({shown(value)}): {lifetime:.0f} s")


async def merchant_accounts(probe: Probe, developer_id: str | None, variables: str) -> Verdict:
    """Get Merchant Accounts answers page 0 in Spring's envelope."""
    if developer_id is None:
        return unknown(f"no developer id: set `developer_id` in reconcile.yaml or {variables}")
    path = merchants.merchants_path(developer_id)
    answer = await probe.send("GET", path, params={"page": 0, "size": 1})
    obj = answer.obj
    if answer.status != 200 or obj is None:
        return failed(f"developer {developer_id!r}: {answered(answer)}; check `developer_id`")
    problem = merchants.page_problem(obj, merchants.FIRST_PAGE)
    spring = [f for f in ("number", "numberOfElements", "totalElements", "totalPages") if f in obj]
    if problem is not None or len(spring) < 4:
        return failed(f"{problem or 'not the Spring envelope'} (keys: {keys_of(obj)})")
    return passed(f"{obj['totalElements']} merchants; page 0 is the first (Spring envelope)")


async def access(probe: Probe, developer_id: str | None, variables: str) -> Verdict:
    """The Fulfillment search answers this client id at all (401/403 told apart)."""
    answer = await probe.search("products", wire.FIRST_PAGE, 1)
    if answer.status in (401, 403):
        fetch = None
        if developer_id is not None:

            async def fetch(page: int) -> dict[str, object]:
                return await probe.client.merchants_page(developer_id, page, 1)

        cause = await merchants.refusal_cause(fetch, variables)
        return failed(f"the product search answered {answered(answer)}: {cause}")
    if answer.status >= 400:
        return failed(f"the product search answered {answered(answer)}; check client_id")
    return passed(f"the Fulfillment search answers for client {probe.client_id!r}")
