"""Reading strictly: an answer that is not understood is an error, never "nothing there"."""

from __future__ import annotations

from typing import Any

import pytest

from reconcile.remote import answers


class TestSearchPage:
    @pytest.mark.parametrize(
        "page",
        [
            {"content": None},
            {},
            {"content": None, "totalElements": 1},
            {"results": [{"sku": "A"}], "totalElements": 1},
            {"content": None, "totalElements": "0"},
        ],
        ids=["null", "empty-object", "null-with-total", "renamed-field", "total-as-text"],
    )
    def test_no_results_list_is_unreadable_unless_it_says_zero(self, page: dict[str, Any]) -> None:
        """Without a recognised list, only an explicit `totalElements: 0` means none."""
        problem = answers.page_problem(page, "boms")
        assert problem is not None
        assert "has no `content` or `billOfMaterials` or `bomList` list" in problem

    def test_explicit_zero_is_an_empty_result(self) -> None:
        """`totalElements: 0` with no list is a readable, empty page."""
        assert answers.page_problem({"totalElements": 0}, "boms") is None

    def test_the_problem_names_the_keys_the_page_had(self) -> None:
        """The message shows what came instead, so a renamed field is recognisable."""
        problem = answers.page_problem({"items": [], "totalElements": 3}, "products")
        assert problem == (
            "the search answer announces 3 results (totalElements) but has no `content` or "
            "`products` list (keys: items, totalElements)"
        )

    def test_a_list_of_objects_is_readable(self) -> None:
        """The recognised field holding objects is fine (counts are checked by the walk)."""
        assert answers.page_problem({"content": [{"sku": "A"}]}, "products") is None


class TestUnifiedError:
    @pytest.mark.parametrize(
        ("body", "unified"),
        [
            ({"errors": [{"errorCode": "404", "message": "not found"}]}, True),
            ({}, False),
            (None, False),
            ("<html>Not Found</html>", False),
            ({"errors": []}, False),
            ({"errors": [{"message": "no code"}]}, False),
        ],
    )
    def test_only_pbs_error_object_is_recognised(self, body: Any, unified: bool) -> None:
        """A proxy's page or an empty body is not PB saying "no such resource"."""
        assert answers.is_unified_error(body) is unified


class TestProductAnswer:
    def test_the_asked_product_is_fine(self) -> None:
        """The same SKU and client: readable."""
        obj = {"sku": "A", "clientId": "C"}
        assert answers.product_answer_problem(obj, "C", "A") is None

    @pytest.mark.parametrize(
        ("obj", "problem"),
        [
            ({}, 'the answer is about SKU null, not "A"'),
            ({"sku": "B", "clientId": "C"}, 'the answer is about SKU "B", not "A"'),
            ({"sku": "A", "clientId": "X"}, 'the answer is about client "X", not "C"'),
            ([], "the answer is a list, not a product object"),
        ],
    )
    def test_another_product_is_unreadable(self, obj: Any, problem: str) -> None:
        """An answer about something else is never taken for the product, nor for absence."""
        assert answers.product_answer_problem(obj, "C", "A") == problem
