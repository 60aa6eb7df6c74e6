"""`probe --record` masks every credential; `probe --write` leaves only inactive RCPROBE-
objects, is refused where require_plan_file is set, and reports index lag."""

from __future__ import annotations

import asyncio
import base64
import json
import os
from pathlib import Path

from reconcile.desired import load_settings
from reconcile.probe import ProbeOptions, run_probe
from tests.probe.probing import catalog, credentials, failed, load_account, probe, statuses
from tests.support.sandbox import ServedSandboxHandle


async def no_wait(seconds: float) -> None:
    return None


class TestRecord:
    def test_one_file_per_exchange_without_secrets(
        self, tmp_path: Path, sandbox: ServedSandboxHandle
    ) -> None:
        """Every request and answer is a file; key, secret, Basic value and tokens masked."""
        load_account(sandbox)
        out = tmp_path / "record"
        probe(catalog(tmp_path / "cat", sandbox), sandbox, "--record", str(out))
        files = sorted(out.iterdir())
        assert len(files) == sandbox.admin.stats()["total"]  # the token request included
        basic = base64.b64encode(f"{sandbox.key}:{sandbox.secret}".encode()).decode()
        for path in files:
            text = path.read_text()
            for secret in (sandbox.key, sandbox.secret, basic, "Bearer "):
                assert secret not in text, (path.name, secret)
        token = json.loads(next(p for p in files if "oauth-token" in p.name).read_text())
        assert token["response"]["body"]["access_token"] == "**********"
        assert token["request"]["headers"]["authorization"] == "**********"

    def test_recorded_answers_are_what_pb_sent(
        self, tmp_path: Path, sandbox: ServedSandboxHandle
    ) -> None:
        """A recorded search answer holds the envelope as sent (for closing the gaps)."""
        load_account(sandbox)
        out = tmp_path / "record"
        probe(catalog(tmp_path / "cat", sandbox), sandbox, "--record", str(out))
        search = json.loads(next(out.glob("*-POST-*products-search.json")).read_text())
        assert search["request"]["method"] == "POST"
        assert "totalElements" in search["response"]["body"]


class TestWrite:
    def test_leaves_only_inactive_probe_objects(
        self, tmp_path: Path, sandbox: ServedSandboxHandle
    ) -> None:
        """--write: every check passes; afterwards the only new objects are RCPROBE- ones,
        all inactive, and the account's own objects are untouched."""
        load_account(sandbox)
        result = probe(catalog(tmp_path, sandbox), sandbox, "--write", "--format", "json")
        assert result.code == 0, result.stdout
        assert set(statuses(result).values()) == {"passed"}
        assert "stay in PB" in result.stderr
        with sandbox.client() as api:
            window = {"name": "pbCreateDate", "values": ["2000-01-01", "2100-01-01"]}
            body = {"clientId": "C1", "searchFields": [window]}
            products = api.post("/products/search", json=body, params={"size": 100}).json()
            inactive = {"name": "includeInactive", "values": ["true"]}
            boms = api.post(
                "/bill-of-materials/search",
                json={"clientId": "C1", "searchFields": [inactive]},
                params={"size": 100},
            ).json()
        made = [p for p in products["content"] if p["sku"].startswith("RCPROBE-")]
        assert len(made) == 3 and all(p["active"] is False for p in made)
        made_boms = [b for b in boms["content"] if b["sku"].startswith("RCPROBE-")]
        assert len(made_boms) == 1 and made_boms[0]["active"] is False
        others = [p for p in products["content"] if not p["sku"].startswith("RCPROBE-")]
        assert all(p.get("active", True) for p in others) and len(others) == 9

    def test_refused_where_plans_must_be_reviewed(
        self, tmp_path: Path, sandbox: ServedSandboxHandle
    ) -> None:
        """require_plan_file: true refuses --write before any request (exit 64)."""
        directory = catalog(tmp_path, sandbox, "    require_plan_file: true\n")
        result = probe(directory, sandbox, "--write")
        assert result.code == 64
        assert "require_plan_file" in result.stderr
        assert sandbox.admin.stats()["total"] == 0

    def test_index_lag_fails_only_its_check(
        self, tmp_path: Path, sandbox: ServedSandboxHandle
    ) -> None:
        """New objects hidden from the next 3 searches: `write: index lag` fails, saying
        when they appeared; every other check passes."""
        load_account(sandbox)
        sandbox.admin.configure(index_lag_searches=3)
        directory = catalog(tmp_path, sandbox)
        options = ProbeOptions(write=True, poll_interval=0.0, sleep=no_wait)
        environ = {k: v for k, v in {**os.environ, **credentials(sandbox)}.items() if v}
        checks = asyncio.run(
            run_probe(
                load_settings(directory),
                "staging",
                catalog_dir=directory,
                environ=environ,
                options=options,
            )
        )
        bad = [c for c in checks if c.status == "failed"]
        assert [c.name for c in bad] == ["write: index lag"]
        assert "only on search 4" in bad[0].detail

    def test_failed_checks_exit_4(self, tmp_path: Path, sandbox: ServedSandboxHandle) -> None:
        """No GET BOM by id: both the read and the write check of it fail (exit 4); the
        cleanup still confirms the BOM inactive, through the search."""
        load_account(sandbox)
        sandbox.admin.configure(bom_get_by_id=False)
        result = probe(catalog(tmp_path, sandbox), sandbox, "--write", "--format", "json")
        assert failed(result) == ["get bom by id", "write: get bom by id"]
        assert result.code == 4
