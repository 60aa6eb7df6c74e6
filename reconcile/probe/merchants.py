"""``reconcile merchants``: every merchant enrolled through the developer id (contract §15)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from reconcile.environments import connect
from reconcile.errors import SettingsError
from reconcile.remote import merchants
from reconcile.remote.merchants import Merchant, MerchantList
from reconcile.settings import SETTINGS_FILE, Settings, developer_id_for, developer_id_variables


async def list_merchants(
    settings: Settings,
    env_name: str | None,
    *,
    catalog_dir: Path,
    environ: Mapping[str, str],
    sort: list[str] | None = None,
    status: str | None = None,
) -> MerchantList:
    """All pages of Get Merchant Accounts, sorted by PB as asked, filtered by status here
    (the API has no status filter)."""
    name, environment = settings.environment(env_name)
    developer_id = developer_id_for(name, environment, environ)
    if developer_id is None:
        specific, generic = developer_id_variables(name)
        raise SettingsError(
            f"no developer id for environment {name!r}: set `developer_id` under "
            f"environments.{name} in {SETTINGS_FILE}, or export {specific} (or {generic}); "
            "PB's Developer Hub shows it under Your Account"
        )
    client, _ = connect(settings, name, catalog_dir=catalog_dir, environ=environ)
    size = min(settings.limits.page_size, merchants.MAX_PAGE_SIZE)
    async with client:

        async def fetch(page: int) -> dict[str, object]:
            return await client.merchants_page(developer_id, page, size, sort)

        raw = await merchants.walk_merchants(fetch, settings.limits.max_search_pages)
    found: list[Merchant] = [merchants.decode(m) for m in raw]
    if status is not None:
        found = [m for m in found if (m.status or "").upper() == status]
    return MerchantList(environment=name, developer_id=developer_id, merchants=found)
