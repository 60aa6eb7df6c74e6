"""``probe --record DIR``: one JSON file per exchange, credentials already masked."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

from reconcile.errors import UsageError
from reconcile.remote.raw import Exchange


class Recorder:
    """Writes each exchange as ``NNN-METHOD-path.json`` into ``directory``."""

    def __init__(self, directory: Path) -> None:
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise UsageError(
                f"--record {directory}: cannot create it ({e.strerror or e})"
            ) from None
        self.directory = directory
        self.count = 0

    def __call__(self, exchange: Exchange) -> None:
        self.count += 1
        slug = re.sub(r"[^A-Za-z0-9]+", "-", urlsplit(exchange.url).path).strip("-")[-60:]
        path = self.directory / f"{self.count:03d}-{exchange.method}-{slug}.json"
        text = json.dumps(exchange.as_json(), indent=2, ensure_ascii=False, default=str)
        path.write_text(text + "\n", encoding="utf-8")
