"""Rendering plans: Terraform-like text, PR-comment markdown, and the summary JSON."""

from __future__ import annotations

import re
import textwrap

import pytest

from reconcile.models import Bom, Product, VendorDetails
from reconcile.plan.build import build_plan
from reconcile.plan.plan import Plan
from reconcile.plan.render import (
    comment_marker,
    matched_nothing,
    printable,
    render_markdown,
    render_summary_json,
    render_text,
    summary_line,
)
from reconcile.plan.warnings import add_inventory_warnings
from reconcile.settings import Safety
from tests.plan.factories import CLIENT, bom, kit, plan_of, product, resources


def make_plan(
    desired: list[Product | Bom], remote: list[Product | Bom], *, prune: bool = True
) -> Plan:
    return plan_of(desired, remote, prune=prune, sandbox_file=".reconcile/sandbox.sqlite3")


def review_plan() -> Plan:
    """An update with a cleared field, a reactivation, a deactivation and a BOM change."""
    desired = [product("A", description="new"), kit("K"), bom("K", {"A": 2, "C": 1}), product("C")]
    remote = [
        product("A", description="old", vendorDetails=VendorDetails(name="V", number="1")),
        product("C", active=False),
        kit("K"),
        bom("K", {"A": 1}),
        product("Z"),
    ]
    return make_plan(desired, remote)


def big_plan(changes: int = 5_000) -> Plan:
    """A plan of ``changes`` changes: mostly creates, with updates and deactivations."""
    updates, deactivations = changes // 10, changes // 10
    creates = changes - updates - deactivations
    desired = [product(f"N{i:05}") for i in range(creates)]
    desired += [product(f"U{i:05}", description="new") for i in range(updates)]
    remote = [product(f"U{i:05}") for i in range(updates)]
    remote += [product(f"D{i:05}") for i in range(deactivations)]
    plan = make_plan(desired, remote)
    return add_inventory_warnings(plan, {f"D{i:05}": 2 for i in range(deactivations)})


class TestText:
    def test_snapshot_without_colour(self) -> None:
        """The plain rendering is Terraform-like: symbols, aligned fields, old → new, a
        changed kit's components as a tree, summary."""
        expected = textwrap.dedent(
            """\
            reconcile plan for environment 'local', client 'ACME' (sandbox file SANDBOX)
            fingerprint FINGERPRINT

              ~ product.A will be updated
                  details.description: "old" → "new"
                  vendorDetails:       {"name": "V", "number": "1"} → (cleared)

              ~ product.C will be updated
                  active: false → true

              ~ bom.K will be updated
                  billOfMaterialDetails[sku=A].quantity: 1 → 2
                  billOfMaterialDetails[sku=C]:          (absent) → {"sku": "C", "quantity": 1}
                  kit K
                  ├── 2 × A  (was 1)
                  └── + 1 × C  (added)

              - product.Z will be deactivated
                  active: true → false

            Deactivations (1):
                product.Z

            Plan: 0 to create, 3 to update, 1 to deactivate, 1 unchanged."""
        )
        plan = review_plan()
        plain = render_text(plan, color=False).plain
        expected = expected.replace("FINGERPRINT", plan.fingerprint()[:12])
        assert plain == expected.replace("SANDBOX", ".reconcile/sandbox.sqlite3")

    def test_no_colour_means_no_styles(self) -> None:
        """color=False produces text without any style span."""
        text = render_text(review_plan(), color=False)
        assert text.spans == [] and not text.style

    def test_colour_marks_actions(self) -> None:
        """With colour, creates are green, updates yellow, deactivations red."""
        plan = make_plan(
            [product("N"), product("A", description="x")], [product("A"), product("Z")]
        )
        text = render_text(plan, color=True)
        styled = {text.plain[s.start : s.end].strip(): str(s.style) for s in text.spans}
        assert (styled["+"], styled["~"], styled["-"]) == ("green", "yellow", "red")

    def test_user_data_is_never_markup(self) -> None:
        """A description full of rich markup prints literally."""
        plan = make_plan([product("A", description="[bold red]x[/] [/]")], [product("A")])
        plain = render_text(plan, color=True).plain
        assert '"[bold red]x[/] [/]"' in plain

    def test_create_lists_every_field(self) -> None:
        """A create shows each field it will set."""
        plain = render_text(make_plan([kit("K")], []), color=False).plain
        assert '  + product.K will be created\n      clientId:          "ACME"\n' in plain
        assert '      productType:       "KIT"\n' in plain

    def test_no_changes(self) -> None:
        """An empty plan says PB matches the catalog."""
        plain = render_text(make_plan([product("A")], [product("A")]), color=False).plain
        assert plain.endswith("\nNo changes. PB matches the catalog.")

    def test_declared_inactive_update_is_drawn_as_a_deactivation(self) -> None:
        """An update to `active: false` is drawn `-`, says so, and is listed as a deactivation."""
        plan = make_plan([product("A", active=False)], [product("A")])
        plain = render_text(plan, color=False).plain
        assert (
            "  - product.A will be deactivated (an update: declared active: false in the catalog)"
            in plain
        )
        assert (
            "Deactivations (1):\n    product.A (declared active: false in the catalog)\n" in plain
        )
        assert plain.endswith("1 to update (1 of them deactivates), 0 to deactivate, 0 unchanged.")

    def test_warnings_and_violations_are_shown(self) -> None:
        """Warnings and safety violations each get a section before the summary."""
        plan = make_plan([kit("K"), bom("K", {"GHOST": 1})], [])
        plain = render_text(plan, color=False, violations=["too much"]).plain
        assert "Warnings:\n  ! bom.K: component product.GHOST exists neither" in plain
        assert "Unsafe plan:\n  ! too much\n" in plain

    def test_long_unmanaged_list_is_collapsed(self) -> None:
        """Past 20 unmanaged resources the text shows a count of the rest."""
        plan = make_plan([], [product(f"Z{i:02}") for i in range(25)], prune=False)
        plain = render_text(plan, color=False).plain
        assert "Unmanaged: 25 active resources are in PB but not in the catalog" in plain
        assert "    product.Z19\n    … and 5 more" in plain
        assert "product.Z20" not in plain

    def test_base_url_and_unreadable_objects_are_shown(self) -> None:
        """A plan against a PB host names it; unreadable objects get their own section."""
        plan = plan_of(
            [product("A")], [], base_url="https://pb.example", unreadable={"product.X": "odd"}
        )
        plain = render_text(plan, color=False).plain
        assert plain.startswith(
            "reconcile plan for environment 'local', client 'ACME' at https://pb.example\n"
        )
        assert (
            "Unreadable: 1 object in PB could not be read and was left alone\n    product.X: odd\n"
            in plain
        )
        md = render_markdown(plan)
        assert "PB host: `https://pb.example`" in md
        assert "**Unreadable: 1 object in PB could not be read and was left alone**" in md
        assert "#### Unreadable (1)\n\n- product.X: odd\n" in md
        assert render_summary_json(plan, Safety())["unreadable"] == 1

    def test_targets_are_named_in_the_header(self) -> None:
        """A targeted plan says so under the header."""
        plan = build_plan(
            resources([product("A")]),
            resources([]),
            environment="ci",
            client_id=CLIENT,
            targets=["A*"],
            excludes=["AB"],
        )
        lines = render_text(plan, color=False).plain.splitlines()
        assert lines[:2] == [
            "reconcile plan for environment 'ci', client 'ACME'",
            "limited to: --target A* --exclude AB",
        ]


class TestMarkdown:
    def test_marker_then_summary_then_risks_then_details(self) -> None:
        """The comment starts with its marker and summary; risky items precede details."""
        md = render_markdown(review_plan(), violations=["too many"])
        assert md.startswith(comment_marker(review_plan()) + "\n")
        assert comment_marker(review_plan()) == "<!-- reconcile-plan:local:ACME -->"
        order = [
            "**Plan: 0 to create, 3 to update, 1 to deactivate, 1 unchanged.**",
            "| products | 0 | 2 | 1 | 1 |",
            "#### ⛔ Unsafe plan",
            "#### Deactivations (1)",
            "#### Changes",
        ]
        positions = [md.index(part) for part in order]
        assert positions == sorted(positions)
        assert "Sandbox file: `.reconcile/sandbox.sqlite3`" in md

    def test_declared_inactive_update_is_listed_under_deactivations(self) -> None:
        """An update to `active: false` is in the Deactivations section, riskiest first."""
        plan = make_plan(
            [product("A", active=False), product("B", description="x")],
            [
                product("A"),
                product("B"),
            ],
        )
        md = render_markdown(plan)
        assert (
            "#### Deactivations (1)\n\n- `product.A` (declared active: false in the catalog)\n"
            in md
        )
        first = re.search(r"<details><summary><code>(.*?)</code> (.*?)</summary>", md)
        assert first is not None and first.groups() == ("- product.A", "update (deactivates)")

    def test_fingerprint_is_in_the_summary(self) -> None:
        """The comment names the plan's fingerprint so a reviewer can match the applied file."""
        plan = review_plan()
        head = render_markdown(plan).split("\n#### ", 1)[0]
        assert f"Plan fingerprint: `{plan.fingerprint()[:12]}`" in head
        assert "fingerprint" not in render_markdown(make_plan([product("A")], [product("A")]))

    def test_details_are_collapsible_diffs(self) -> None:
        """Each change is a <details> block holding a diff fence."""
        md = render_markdown(review_plan())
        block = re.search(
            r"<details><summary><code>~ product\.A</code> update</summary>.*?</details>", md, re.S
        )
        assert block is not None
        assert '```diff\n- details.description: "old"\n+ details.description: "new"\n' in block[0]
        assert '- vendorDetails: {"name": "V", "number": "1"}\n```' in block[0]

    def test_backticks_in_values_lengthen_the_fence(self) -> None:
        """A value containing ``` cannot close the diff fence early."""
        md = render_markdown(make_plan([product("A", description="x ``` y")], [product("A")]))
        assert "````diff\n" in md

    def test_user_data_is_escaped(self) -> None:
        """HTML in user data cannot break out of the summary tag or the comment."""
        plan = make_plan([product("A<b>&")], [])
        md = render_markdown(plan)
        assert "<code>+ product.A&lt;b&gt;&amp;</code>" in md

    def test_5000_changes_fit_under_the_limit(self) -> None:
        """A 5,000-change plan is cut in its details, with a note, never in its summary."""
        plan = big_plan()
        assert len(plan.changes) == 5_000
        md = render_markdown(plan)
        assert len(md) <= 65_000
        head = md.split("\n#### ", 1)[0]
        assert "**Plan: 4000 to create, 500 to update, 500 to deactivate, 0 unchanged.**" in head
        assert "| products | 4000 | 500 | 500 | 0 |" in head
        assert "#### Deactivations (500)" in md
        assert re.search(r"_Truncated to fit a comment: [\d,]+ more changes not shown\.", md)

    @pytest.mark.parametrize("limit", [2_000, 10_000, 30_000])
    def test_any_limit_is_honoured(self, limit: int) -> None:
        """Smaller limits are honoured too, still keeping the whole summary."""
        md = render_markdown(big_plan(600), max_chars=limit)
        assert len(md) <= limit
        assert "**Plan: 480 to create, 60 to update, 60 to deactivate, 0 unchanged.**" in md

    def test_limit_too_small_for_a_summary_is_refused(self) -> None:
        """A limit below what a summary needs is a programming error."""
        with pytest.raises(ValueError, match="at least 2000"):
            render_markdown(review_plan(), max_chars=100)

    def test_small_plan_is_not_truncated(self) -> None:
        """A plan that fits is rendered whole, without a truncation note."""
        assert "Truncated" not in render_markdown(review_plan())


HOSTILE = "E\x1b[2J\x1b]0;pwned\x07\u202e\x9b"


def hostile_plan() -> Plan:
    """A plan whose addresses, unmanaged and unreadable lists and warnings carry
    terminal escape sequences and a bidi override (as PB may hold such SKUs)."""
    plan = make_plan([product("A", description="new")], [product("A"), product("Z")], prune=False)
    change = plan.changes[0].model_copy(update={"address": f"product.{HOSTILE}"})
    warning = plan.warnings[0] if plan.warnings else None
    return plan.model_copy(
        update={
            "changes": [change],
            "unmanaged": [f"product.{HOSTILE}"],
            "unreadable": [f"product.{HOSTILE}: odd {HOSTILE}"],
            "warnings": [] if warning is None else [warning],
            "environment": f"env{HOSTILE}",
        }
    )


class TestEmptySelection:
    """A --target/--exclude that selects nothing is said so, not "PB matches"."""

    def test_summary_names_the_selection_that_matched_nothing(self) -> None:
        """A target matching no resource gives 'no resource matched --target …'."""
        plan = make_plan([product("A")], [product("B")], prune=False)
        typo = plan_of([product("A")], [product("B")], targets=["product.AA"])
        assert matched_nothing(typo) and not matched_nothing(plan)
        assert summary_line(typo) == "No changes: no resource matched --target product.AA."

    def test_a_selection_of_unchanged_resources_matches(self) -> None:
        """A target selecting resources PB already matches still says PB matches."""
        plan = plan_of([product("A")], [product("A")], targets=["A"])
        assert not matched_nothing(plan)
        assert summary_line(plan) == "No changes. PB matches the catalog."


class TestTerminalSafety:
    """No character a terminal would act on reaches it from user data."""

    def test_text_escapes_control_and_bidi_characters(self) -> None:
        """Every control character and bidi override shows as its escape, everywhere."""
        text = render_text(hostile_plan(), color=True).plain
        assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]", text)
        assert "product.E\\x1b[2J\\x1b]0;pwned\\x07\\u202e\\x9b" in text
        assert text.count("\\x1b[2J") >= 3  # header, change, unmanaged, unreadable

    def test_markdown_escapes_control_and_bidi_characters(self) -> None:
        """The markdown comment has no raw control characters but its line breaks."""
        text = render_markdown(hostile_plan())
        assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]", text)
        assert "\\x1b" in text and "\\u202e" in text

    def test_printable_keeps_newlines_only_when_asked(self) -> None:
        """printable escapes a newline by default and keeps it with newlines=True."""
        assert printable("a\nb\tc") == "a\\x0ab\\x09c"
        assert printable("a\nb", newlines=True) == "a\nb"
        assert printable("ünïcode ✓") == "ünïcode ✓"


class TestSummaryJson:
    def test_counts_and_safety_verdict(self) -> None:
        """The summary JSON gives counts per kind and action, and whether the plan is unsafe."""
        data = render_summary_json(review_plan(), Safety(min_existing=1))
        assert data["counts"]["product"] == {"create": 0, "update": 2, "deactivate": 1, "no_op": 1}
        assert data["totals"] == {"create": 0, "update": 3, "deactivate": 1, "no_op": 1}
        assert data["has_changes"] is True
        assert data["unsafe"] is True and len(data["unsafe_reasons"]) == 3

    def test_safe_plan(self) -> None:
        """With the default thresholds a small plan is safe."""
        data = render_summary_json(review_plan(), Safety())
        assert (data["unsafe"], data["unsafe_reasons"]) == (False, [])
