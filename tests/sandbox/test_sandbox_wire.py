"""The hand-spliced JSON of the hot paths equals the plain rendering."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reconcile.sandbox.paging import Paging, envelope, envelope_json
from reconcile.sandbox.store import StoredProduct, to_json
from reconcile.sandbox.wire import product_json, render_product

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
BODIES = st.dictionaries(
    st.text(max_size=6).filter(lambda k: k not in ("pbCreateDate", "pbUpdateDate", "status")),
    JSON_VALUES,
    max_size=5,
)


class TestSplicedJson:
    @settings(max_examples=60, deadline=None)
    @given(body=BODIES, created=st.floats(0, 4e9), updated=st.floats(0, 4e9))
    def test_product_json_matches_render_product(
        self, body: dict[str, Any], created: float, updated: float
    ) -> None:
        """product_json gives the same object as render_product, for any stored body."""
        stored = StoredProduct(to_json(body), "PUBLISHED", created, updated)
        assert json.loads(product_json(stored)) == render_product(stored)

    def test_empty_body_still_gives_valid_json(self) -> None:
        """An empty stored object splices into valid JSON (no leading comma)."""
        stored = StoredProduct("{}", "UNPUBLISHED", 0.0, 0.0)
        assert json.loads(product_json(stored))["status"] == "UNPUBLISHED"

    def test_envelope_json_matches_envelope(self) -> None:
        """The spliced envelope equals the plain one."""
        paging = Paging(2, 3)
        items = [{"a": 1}, {"b": "ü"}]
        spliced = envelope_json([to_json(i) for i in items], 8, paging)
        assert json.loads(spliced) == envelope(items, 8, paging)
