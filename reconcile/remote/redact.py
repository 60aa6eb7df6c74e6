"""Keep the API key, secret and bearer tokens out of every text the client produces."""

from __future__ import annotations

import base64

MASK = "**********"
_MIN_SECRET = 4  # shorter values would mask ordinary words; PB keys are far longer


class Redactor:
    """Replaces every known secret (and its Basic-auth encoding) with a mask."""

    def __init__(self, *secrets: str) -> None:
        self._secrets: set[str] = set()
        for secret in secrets:
            self.add(secret)
        if len(secrets) == 2:
            self.add(basic_credentials(secrets[0], secrets[1]))

    def add(self, secret: str) -> None:
        if len(secret) >= _MIN_SECRET:
            self._secrets.add(secret)

    def __call__(self, text: str) -> str:
        # Longest first, so a secret containing another is masked whole.
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, MASK)
        return text

    def __repr__(self) -> str:
        return f"Redactor({len(self._secrets)} secrets)"


def basic_credentials(key: str, secret: str) -> str:
    """The value after ``Basic `` for key:secret (contract §4)."""
    return base64.b64encode(f"{key}:{secret}".encode()).decode("ascii")
