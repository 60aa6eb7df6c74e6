"""Helpers for catalog-language tests: write a catalog into a temporary directory."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

MakeCatalog = Callable[..., Path]


#: The settings of a test catalog; N1 is the node the BOM tests use (a known center).
SETTINGS = "client_id: DEMO\nfulfillment_centers: [N1]\n"


@pytest.fixture
def make_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MakeCatalog:
    """Write files into ``cat/`` under a fresh working directory; paths print as ``cat/...``."""
    monkeypatch.chdir(tmp_path)

    def make(files: Mapping[str, str | bytes], settings: str | None = SETTINGS) -> Path:
        root = Path("cat")
        root.mkdir(exist_ok=True)
        if settings is not None:
            (root / "reconcile.yaml").write_text(settings, encoding="utf-8")
        for name, content in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        return root

    return make
