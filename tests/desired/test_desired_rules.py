"""Resource rules: fields, types, lengths, enums, and the rules that span files."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconcile.desired import load_catalog
from reconcile.errors import CatalogError
from reconcile.models import BomKey, ProductKey
from tests.desired.catalogs import bom, problems_of, products
from tests.desired.conftest import MakeCatalog


def with_field(line: str) -> str:
    """One ITEM `A` with an extra line appended to its mapping (line 6 of the file)."""
    return products("A") + line + "\n"


class TestFields:
    def test_unknown_field_suggests_the_close_name(self, make_catalog: MakeCatalog) -> None:
        """A misspelt field is reported at its key with a 'did you mean'."""
        root = make_catalog({"a.yaml": with_field("    activ: true")})
        assert problems_of(root) == [
            "cat/a.yaml:6:5: unknown field 'activ'; did you mean 'active'?"
        ]

    def test_unknown_nested_field_suggests_from_its_own_model(
        self, make_catalog: MakeCatalog
    ) -> None:
        """Suggestions come from the model at that depth (vendorDetails here)."""
        text = with_field("    vendorDetails:\n      name: V\n      numbr: '1'")
        assert problems_of(make_catalog({"a.yaml": text})) == [
            "cat/a.yaml:7:7: missing required field 'vendorDetails.number'",
            "cat/a.yaml:8:7: unknown field 'numbr'; did you mean 'number'?",
        ]

    def test_escaped_control_characters_are_located(self, make_catalog: MakeCatalog) -> None:
        """A SKU smuggling ESC through a YAML escape is refused at its value, not printed raw."""
        text = products("A").replace("sku: A", 'sku: "E\\e[2J\\e]0;pwned\\a"')
        assert problems_of(make_catalog({"a.yaml": text})) == [
            "cat/a.yaml:2:10: sku: contains a control character (U+001B) at position 2; "
            "reviewers would not see it in a plan, so remove it"
        ]

    def test_unknown_top_level_key(self, make_catalog: MakeCatalog) -> None:
        """Only `products` and `boms` may appear at the top of a file."""
        root = make_catalog({"a.yaml": "product: []\n"})
        assert problems_of(root) == [
            "cat/a.yaml:1:1: unknown top-level key 'product'; did you mean 'products'?"
        ]

    def test_details_keep_unknown_keys(self, make_catalog: MakeCatalog) -> None:
        """`details` is open: keys PB documents beyond `description` are kept."""
        root = make_catalog({"a.yaml": with_field("      weight: 1.5")})
        catalog = load_catalog(root)
        product = catalog.resources.products[ProductKey("DEMO", "A")]
        assert product.details.model_extra == {"weight": 1.5}

    def test_missing_required_field_points_at_its_mapping(self, make_catalog: MakeCatalog) -> None:
        """A missing field is reported at the start of the mapping that lacks it."""
        root = make_catalog({"a.yaml": "products:\n  - sku: A\n    details: {}\n"})
        assert problems_of(root) == ["cat/a.yaml:2:5: missing required field 'productType'"]

    def test_enum_violation_lists_the_allowed_values(self, make_catalog: MakeCatalog) -> None:
        """productType outside ITEM/KIT is reported at the value."""
        text = products("A").replace("productType: ITEM", "productType: item")
        assert problems_of(make_catalog({"a.yaml": text})) == [
            "cat/a.yaml:3:18: productType must be one of 'ITEM' or 'KIT', not 'item'"
        ]

    def test_too_long_sku_names_the_limit(self, make_catalog: MakeCatalog) -> None:
        """A 31-character SKU is one over PB's limit of 30."""
        root = make_catalog({"a.yaml": products("S" * 31)})
        assert problems_of(root) == [
            "cat/a.yaml:2:10: sku is 31 characters long, at most 30 allowed"
        ]

    def test_sku_of_thirty_characters_is_accepted(self, make_catalog: MakeCatalog) -> None:
        """Exactly 30 characters is within the limit."""
        assert problems_of(make_catalog({"a.yaml": products("S" * 30)})) == []

    def test_yes_is_not_a_boolean(self, make_catalog: MakeCatalog) -> None:
        """YAML 1.2 reads `yes` as a string; the message says so."""
        root = make_catalog({"a.yaml": with_field("    active: yes")})
        assert problems_of(root) == [
            "cat/a.yaml:6:13: active must be true or false, got string 'yes' "
            "(YAML 1.2 reads yes/no/on/off as strings)"
        ]

    def test_unquoted_digits_are_not_a_string(self, make_catalog: MakeCatalog) -> None:
        """A numeric SKU must be quoted; the message shows the number YAML read."""
        root = make_catalog({"a.yaml": products("007")})
        assert problems_of(root) == [
            "cat/a.yaml:2:10: sku must be a string, got integer 7; quote it to keep it as "
            "written (YAML reads unquoted digits as numbers)"
        ]

    def test_quoted_digits_are_a_string(self, make_catalog: MakeCatalog) -> None:
        """Quoting keeps the leading zeros."""
        assert problems_of(make_catalog({"a.yaml": products("'007'")})) == []

    def test_quantity_below_one(self, make_catalog: MakeCatalog) -> None:
        """BOM quantities are whole numbers of at least 1."""
        text = (
            products("A", kits=("K",))
            + "boms:\n"
            + bom("K", "A").replace("quantity: 1", "quantity: 0")
        )
        assert problems_of(make_catalog({"a.yaml": text})) == [
            "cat/a.yaml:15:19: billOfMaterialDetails[0].quantity must be at least 1, not 0"
        ]

    def test_bom_without_components(self, make_catalog: MakeCatalog) -> None:
        """A BOM needs at least one component."""
        text = (
            products(kits=("K",))
            + "boms:\n  - sku: K\n    description: K\n    billOfMaterialDetails: []\n"
        )
        assert problems_of(make_catalog({"a.yaml": text})) == [
            "cat/a.yaml:9:28: billOfMaterialDetails is empty; write at least 1 entry"
        ]

    def test_section_must_be_a_list(self, make_catalog: MakeCatalog) -> None:
        """`products:` with no value says how to write an empty list."""
        root = make_catalog({"a.yaml": "products:\nboms: {}\n"})
        assert problems_of(root) == [
            "cat/a.yaml:1:10: products must be a list, got empty value (write `[]` for none)",
            "cat/a.yaml:2:7: boms must be a list, got mapping",
        ]

    def test_file_must_be_a_mapping(self, make_catalog: MakeCatalog) -> None:
        """A file that is a bare list is refused with the expected shape."""
        root = make_catalog({"a.yaml": "- sku: A\n"})
        assert problems_of(root) == [
            "cat/a.yaml:1:1: a catalog file is a mapping with `products:` and/or `boms:` "
            "lists, not a list"
        ]

    def test_non_string_key_and_nan_in_details(self, make_catalog: MakeCatalog) -> None:
        """Values JSON cannot carry are refused even where unknown keys are allowed."""
        text = with_field("      extra:\n        1: one\n      ratio: .nan")
        assert problems_of(make_catalog({"a.yaml": text})) == [
            "cat/a.yaml:7:9: key 1 reads as a number, not a string; quote it to keep it as "
            "written: '1'",
            "cat/a.yaml:8:14: nan is not a valid value (JSON has no NaN or infinity)",
        ]

    def test_one_bad_item_does_not_hide_the_others(self, make_catalog: MakeCatalog) -> None:
        """Every invalid item of a file is reported, and valid ones still take part in checks."""
        text = products("A", "B").replace("productType: ITEM", "productType: X")
        assert problems_of(make_catalog({"a.yaml": text})) == [
            "cat/a.yaml:3:18: productType must be one of 'ITEM' or 'KIT', not 'X'",
            "cat/a.yaml:7:18: productType must be one of 'ITEM' or 'KIT', not 'X'",
        ]


class TestClient:
    def test_client_id_is_filled_from_settings(self, make_catalog: MakeCatalog) -> None:
        """Resources that omit clientId take client_id of reconcile.yaml."""
        catalog = load_catalog(make_catalog({"a.yaml": products("A")}))
        assert catalog.client_id == "DEMO"
        assert list(catalog.resources.products) == [ProductKey("DEMO", "A")]

    def test_other_client_is_an_error(self, make_catalog: MakeCatalog) -> None:
        """A resource naming another client than reconcile.yaml is reported at its clientId."""
        root = make_catalog({"a.yaml": with_field("    clientId: OTHER")})
        assert problems_of(root) == [
            "cat/a.yaml:6:15: clientId 'OTHER' differs from 'DEMO' (client_id of "
            "reconcile.yaml); a catalog describes exactly one client"
        ]

    def test_same_client_spelt_out_is_fine(self, make_catalog: MakeCatalog) -> None:
        """Naming the settings' client explicitly is allowed."""
        assert problems_of(make_catalog({"a.yaml": with_field("    clientId: DEMO")})) == []

    def test_without_client_id_each_resource_needs_one(self, make_catalog: MakeCatalog) -> None:
        """With no client_id in reconcile.yaml, a resource without clientId says where to set it."""
        root = make_catalog({"a.yaml": products("A")}, settings="prune: false\n")
        assert problems_of(root) == [
            "cat/a.yaml:2:5: missing required field 'clientId': set it here, or `client_id` "
            "in reconcile.yaml",
            "cat/reconcile.yaml:1:1: client_id is not set; add `client_id: YOUR-PB-CLIENT-ID`",
        ]

    def test_client_may_come_from_the_resources(self, make_catalog: MakeCatalog) -> None:
        """Without client_id, the resources' one shared clientId is the catalog's."""
        text = with_field("    clientId: ACME")
        catalog = load_catalog(make_catalog({"a.yaml": text}, settings="prune: false\n"))
        assert catalog.client_id == "ACME"

    def test_mixed_clients_are_an_error(self, make_catalog: MakeCatalog) -> None:
        """Without client_id, resources naming different clients are refused."""
        files = {
            "a.yaml": with_field("    clientId: ACME"),
            "b.yaml": products("B").replace(
                "productType: ITEM", "productType: ITEM\n    clientId: OTHER"
            ),
        }
        root = make_catalog(files, settings="prune: false\n")
        assert problems_of(root) == [
            "cat/b.yaml:4:15: clientId 'OTHER' differs from 'ACME' (the catalog's first "
            "resource); a catalog describes exactly one client"
        ]


class TestCrossFile:
    def test_duplicate_sku_reports_both_locations(self, make_catalog: MakeCatalog) -> None:
        """A SKU declared in two files is reported at each place, naming the other."""
        root = make_catalog({"a.yaml": products("A"), "sub/b.yaml": products("B", "A")})
        assert problems_of(root) == [
            "cat/a.yaml:2:10: duplicate product SKU 'A': also declared at cat/sub/b.yaml:6:10",
            "cat/sub/b.yaml:6:10: duplicate product SKU 'A': also declared at cat/a.yaml:2:10",
        ]

    def test_duplicate_bom_on_sku_and_node(self, make_catalog: MakeCatalog) -> None:
        """Two BOMs for one kit at one node are reported at both."""
        text = products("A", kits=("K",)) + "boms:\n" + bom("K", "A", node="N1") * 2
        assert problems_of(make_catalog({"a.yaml": text})) == [
            "cat/a.yaml:11:10: duplicate BOM for kit 'K' at node 'N1': also declared at "
            "cat/a.yaml:17:10",
            "cat/a.yaml:17:10: duplicate BOM for kit 'K' at node 'N1': also declared at "
            "cat/a.yaml:11:10",
        ]

    def test_duplicate_bom_is_reported_beside_a_field_error(
        self, make_catalog: MakeCatalog
    ) -> None:
        """A field error in one of two BOMs with one key does not hide the duplicate."""
        bad = bom("K", "A", node="N1").replace("quantity: 1", "quantity: 0")
        text = products("A", kits=("K",)) + "boms:\n" + bom("K", "A", node="N1") + bad
        assert problems_of(make_catalog({"a.yaml": text})) == [
            "cat/a.yaml:11:10: duplicate BOM for kit 'K' at node 'N1': also declared at "
            "cat/a.yaml:17:10",
            "cat/a.yaml:17:10: duplicate BOM for kit 'K' at node 'N1': also declared at "
            "cat/a.yaml:11:10",
            "cat/a.yaml:22:19: billOfMaterialDetails[0].quantity must be at least 1, not 0",
        ]

    def test_duplicate_product_is_reported_beside_field_errors(
        self, make_catalog: MakeCatalog
    ) -> None:
        """Two invalid products with one SKU, in two files: every problem in one pass."""
        bad = products("A").replace("ITEM", "ITEMS")
        root = make_catalog(
            {"a.yaml": bad, "b.yaml": products("B") + bad.removeprefix("products:\n")}
        )
        assert problems_of(root) == [
            "cat/a.yaml:2:10: duplicate product SKU 'A': also declared at cat/b.yaml:6:10",
            "cat/a.yaml:3:18: productType must be one of 'ITEM' or 'KIT', not 'ITEMS'",
            "cat/b.yaml:6:10: duplicate product SKU 'A': also declared at cat/a.yaml:2:10",
            "cat/b.yaml:7:18: productType must be one of 'ITEM' or 'KIT', not 'ITEMS'",
        ]

    def test_an_unreadable_key_takes_no_part_in_duplicates(self, make_catalog: MakeCatalog) -> None:
        """An invalid BOM whose node is no string has no key to compare: only its error."""
        odd = bom("K", "A", node="N1").replace("node: N1", "node: [N1]")
        text = products("A", kits=("K",)) + "boms:\n" + bom("K", "A", node="N1") + odd
        assert problems_of(make_catalog({"a.yaml": text})) == [
            "cat/a.yaml:19:11: node must be a string, got list",
        ]

    def test_boms_at_different_nodes_are_distinct(self, make_catalog: MakeCatalog) -> None:
        """One kit may have a BOM per node."""
        text = products("A", kits=("K",)) + "boms:\n" + bom("K", "A", node="N1") + bom("K", "A")
        catalog = load_catalog(make_catalog({"a.yaml": text}))
        assert set(catalog.resources.boms) == {BomKey("DEMO", "K", "N1"), BomKey("DEMO", "K", "")}

    def test_kit_not_declared_is_a_warning(self, make_catalog: MakeCatalog) -> None:
        """A BOM for a kit the catalog does not declare warns: it may exist in PB."""
        text = products("A") + "boms:\n" + bom("K", "A")
        catalog = load_catalog(make_catalog({"a.yaml": text}))
        assert [str(p) for p in catalog.problems] == [
            "cat/a.yaml:7:10: warning: kit 'K' is not declared in this catalog; it must "
            "already exist in PB as a KIT"
        ]

    def test_kit_declared_as_item_is_an_error(self, make_catalog: MakeCatalog) -> None:
        """A BOM's sku declared as an ITEM is an error naming where it was declared."""
        text = products("A", "B") + "boms:\n" + bom("A", "B")
        assert problems_of(make_catalog({"a.yaml": text})) == [
            "cat/a.yaml:11:10: 'A' is declared as productType ITEM at cat/a.yaml:3:18; "
            "a BOM's sku must be a KIT product"
        ]

    def test_component_not_declared_is_a_warning(self, make_catalog: MakeCatalog) -> None:
        """A component the catalog does not declare warns at the component."""
        text = products("A", kits=("K",)) + "boms:\n" + bom("K", "A", "REMOTE")
        catalog = load_catalog(make_catalog({"a.yaml": text}))
        assert [str(p) for p in catalog.problems] == [
            "cat/a.yaml:16:14: warning: component 'REMOTE' is not declared in this catalog; "
            "it must already exist in PB"
        ]

    def test_kit_listing_itself(self, make_catalog: MakeCatalog) -> None:
        """A kit may not be its own component."""
        text = products("A", kits=("K",)) + "boms:\n" + bom("K", "A", "K")
        assert problems_of(make_catalog({"a.yaml": text})) == [
            "cat/a.yaml:16:14: kit 'K' lists itself as a component"
        ]

    def test_component_listed_twice(self, make_catalog: MakeCatalog) -> None:
        """Components are a set keyed by SKU: a repeat is an error."""
        text = products("A", kits=("K",)) + "boms:\n" + bom("K", "A", "A")
        assert problems_of(make_catalog({"a.yaml": text})) == [
            "cat/a.yaml:16:14: component 'A' is listed twice (first as entry 1); merge the "
            "quantities into one entry"
        ]

    def test_cycle_through_nested_kits(self, make_catalog: MakeCatalog) -> None:
        """K1 → K2 → K3 → K1 is reported once, at the component that closes the cycle."""
        text = (
            products(kits=("K1", "K2", "K3"))
            + "boms:\n"
            + bom("K1", "K2")
            + bom("K2", "K3")
            + bom("K3", "K1")
        )
        assert problems_of(make_catalog({"a.yaml": text})) == [
            "cat/a.yaml:28:14: kits contain each other: K1 → K2 → K3 → K1"
        ]

    def test_nested_kits_without_cycle_are_valid(self, make_catalog: MakeCatalog) -> None:
        """A kit may contain another kit (a diamond is not a cycle)."""
        text = (
            products("A", kits=("TOP", "L", "R"))
            + "boms:\n"
            + bom("TOP", "L", "R")
            + bom("L", "A")
            + bom("R", "A")
        )
        catalog = load_catalog(make_catalog({"a.yaml": text}))
        assert catalog.problems == []
        assert len(catalog.resources.boms) == 3


class TestCatalogDirectory:
    def test_missing_directory(self, make_catalog: MakeCatalog) -> None:
        """A directory that does not exist is a CatalogError, not a traceback."""
        with pytest.raises(CatalogError) as caught:
            load_catalog(Path("nowhere"))
        assert [str(p) for p in caught.value.problems] == [
            "nowhere: catalog directory does not exist"
        ]

    def test_missing_directory_with_given_settings(self, make_catalog: MakeCatalog) -> None:
        """Passing settings does not make a missing directory an empty catalog."""
        from reconcile.settings import Settings

        with pytest.raises(CatalogError, match="catalog directory does not exist"):
            load_catalog(Path("nowhere"), settings=Settings(client_id="DEMO"))

    def test_missing_settings_file_says_how_to_create_it(self, make_catalog: MakeCatalog) -> None:
        """Without reconcile.yaml the error names the file and a minimal content."""
        root = make_catalog({"a.yaml": products("A")}, settings=None)
        assert problems_of(root) == [
            "cat/reconcile.yaml: missing: every catalog directory needs a reconcile.yaml; "
            "create it with at least the line `client_id: YOUR-PB-CLIENT-ID`"
        ]

    def test_hidden_and_state_directories_are_skipped(self, make_catalog: MakeCatalog) -> None:
        """Files under .reconcile/ or hidden directories, and non-YAML files, are not read."""
        root = make_catalog(
            {
                "a.yml": products("A"),
                ".reconcile/state.yaml": "not: [valid",
                ".github/workflow.yaml": "on: push\n",
                ".hidden.yaml": "x",
                "notes.txt": "x",
            }
        )
        catalog = load_catalog(root)
        assert catalog.files == [root / "a.yml"]

    def test_special_files_are_errors_never_read(self, make_catalog: MakeCatalog) -> None:
        """A named pipe called *.yaml is not read (reading it would block forever), and the
        catalog does not load without it: a catalog is read whole or not at all."""
        import os

        root = make_catalog({"a.yaml": products("A")})
        os.mkfifo(root / "pipe.yaml")
        with pytest.raises(CatalogError) as raised:
            load_catalog(root)
        assert [p.path for p in raised.value.problems] == ["cat/pipe.yaml"]

    def test_files_are_found_recursively_in_order(self, make_catalog: MakeCatalog) -> None:
        """Subdirectories are read, in sorted order."""
        root = make_catalog({"b.yaml": products("B"), "a/z.yaml": products("Z")})
        assert load_catalog(root).files == [root / "a" / "z.yaml", root / "b.yaml"]

    def test_all_problems_of_all_files_at_once(self, make_catalog: MakeCatalog) -> None:
        """Problems from several files are all reported together, sorted by place."""
        root = make_catalog({"a.yaml": "products: [\n", "b.yaml": with_field("    activ: true")})
        assert problems_of(root) == [
            "cat/a.yaml:2:1: YAML syntax error: did not find expected node content "
            "(while parsing a flow node started at line 2)",
            "cat/b.yaml:6:5: unknown field 'activ'; did you mean 'active'?",
        ]


class TestIdentifiersAReviewerCanTrust:
    def test_look_alike_and_invisible_characters_are_located_warnings(
        self, make_catalog: MakeCatalog
    ) -> None:
        """Each suspect identifier is a warning at its value, with the character escaped."""
        text = products('"TEE-\\u0410"', '"ZW\\u200bSP"', kits=('"\\uff2bIT"',)) + (
            "boms:\n" + bom('"\\uff2bIT"', '"CAFE\\u0301"', node='"N\\u00ad1"')
        )
        root = make_catalog({"a.yaml": text})
        found = problems_of(root)
        assert found[0] == (
            "cat/a.yaml:2:10: warning: SKU 'TEE-\\u0410' contains U+0410 CYRILLIC CAPITAL "
            "LETTER A at position 5 (mixes scripts with Latin): a reviewer reads another "
            "identifier than the one PB stores; retype it in plain characters"
        )
        assert [p.split(" contains")[0] for p in found if " contains " in p] == [
            "cat/a.yaml:2:10: warning: SKU 'TEE-\\u0410'",
            "cat/a.yaml:6:10: warning: SKU 'ZW\\u200bSP'",
            "cat/a.yaml:10:10: warning: SKU '\\uff2bIT'",
            "cat/a.yaml:15:10: warning: kit SKU '\\uff2bIT'",
            "cat/a.yaml:17:11: warning: node 'N\\u00ad1'",
            "cat/a.yaml:19:14: warning: component SKU 'CAFE\\u0301'",
        ]

    def test_quantity_above_pbs_integer_is_an_error(self, make_catalog: MakeCatalog) -> None:
        """A quantity of 10^38 does not fit PB's integer: a located error, not a failed write."""
        text = (
            products("A", kits=("K",))
            + "boms:\n"
            + bom("K", "A").replace(
                "quantity: 1", "quantity: 100000000000000000000000000000000000000"
            )
        )
        assert problems_of(make_catalog({"a.yaml": text})) == [
            "cat/a.yaml:15:19: billOfMaterialDetails[0].quantity must be at most 2147483647, "
            "not 100000000000000000000000000000000000000"
        ]
