"""`reconcile doctor` tells "the token is fine but Fulfillment is not enabled" from bad
credentials, through the merchants call, when the search answers 401/403."""

from __future__ import annotations

from pathlib import Path

from tests.probe.probing import catalog, credentials
from tests.support.cli import run
from tests.support.sandbox import ServedSandboxHandle


class TestDoctorAccess:
    def test_fulfillment_not_enabled(self, tmp_path: Path, sandbox: ServedSandboxHandle) -> None:
        """Search 403, merchants 200: the hint says Fulfillment is not enabled (exit 4)."""
        sandbox.admin.configure(fulfillment_enabled=False)
        result = run(
            ["doctor", str(catalog(tmp_path, sandbox)), "--env", "staging"],
            env=credentials(sandbox),
        )
        assert result.code == 4
        assert "token is fine (merchants answered) but Fulfillment is not enabled" in result.stdout

    def test_without_developer_id_the_hint_asks_for_it(
        self, tmp_path: Path, sandbox: ServedSandboxHandle
    ) -> None:
        sandbox.admin.configure(fulfillment_enabled=False)
        directory = catalog(tmp_path, sandbox)
        yaml = (directory / "reconcile.yaml").read_text().replace("developer_id", "# developer_id")
        (directory / "reconcile.yaml").write_text(yaml)
        result = run(["doctor", str(directory), "--env", "staging"], env=credentials(sandbox))
        assert result.code == 4
        assert "PB_STAGING_DEVELOPER_ID" in result.stdout
