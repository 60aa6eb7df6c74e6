"""write_catalog: what `reconcile import` writes is lossless, canonical and loadable."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconcile.desired import format_text, load_catalog, write_catalog
from reconcile.desired.writer import MAX_PER_FILE, scalar
from reconcile.errors import UsageError
from reconcile.models import Bom, BomComponent, Product, ResourceSet
from reconcile.models.product import ProductDetails, ProductOption, VendorDetails
from reconcile.settings import Environment, Settings

EXAMPLES = Path(__file__).resolve().parents[2] / "catalog-examples"
TRICKY = [
    "yes",
    "no",
    "012",
    "1e3",
    "null",
    "~",
    "2026-01-01",
    "a: b",
    "#x",
    "- x",
    "",
    " lead",
    "trail ",
    "multi\nline",
    "quote'n\"",
    "Café crème",
    "%x",
    "@x",
    "`x",
    "!x",
    "&x",
    "*x",
    "true",
    "True",
    ".inf",
    "0x1F",
    "[x]",
    "{x}",
    "x, y",
    "tab\there",
    "a:b",
    "x:",
    "a #b",
    "https://x.example/a?b=c#d",
]


def resources_of(*products: Product, boms: tuple[Bom, ...] = ()) -> ResourceSet:
    resources = ResourceSet()
    for product in products:
        resources.add_product(product)
    for bom in boms:
        resources.add_bom(bom)
    return resources


def item(sku: str, **fields: object) -> Product:
    fields.setdefault("details", ProductDetails())
    return Product(clientId="DEMO", sku=sku, productType="ITEM", **fields)  # type: ignore[arg-type]


class TestRoundTrip:
    def test_kits_example_round_trips(self, tmp_path: Path) -> None:
        """Writing the kits example and loading it back gives equal models and settings."""
        catalog = load_catalog(EXAMPLES / "kits")
        write_catalog(tmp_path / "out", catalog.resources, settings=catalog.settings)
        again = load_catalog(tmp_path / "out")
        assert again.resources.products == catalog.resources.products
        assert again.resources.boms == catalog.resources.boms
        assert again.settings == catalog.settings
        assert again.problems == []

    def test_output_is_already_formatted(self, tmp_path: Path) -> None:
        """Every written file is a fixed point of fmt."""
        catalog = load_catalog(EXAMPLES / "kits")
        for path in write_catalog(tmp_path / "out", catalog.resources, settings=catalog.settings):
            text = path.read_text()
            assert format_text(text, reorder=path.name != "reconcile.yaml") == text

    def test_layout_by_product_type(self, tmp_path: Path) -> None:
        """Products go to items.yaml/kits.yaml, BOMs to boms.yaml; all start with the modeline."""
        catalog = load_catalog(EXAMPLES / "kits")
        written = write_catalog(tmp_path / "out", catalog.resources, settings=catalog.settings)
        assert [p.name for p in written] == [
            "reconcile.yaml",
            "items.yaml",
            "kits.yaml",
            "boms.yaml",
        ]
        first = (tmp_path / "out" / "items.yaml").read_text().splitlines()[0]
        assert first == "# yaml-language-server: $schema=schemas/catalog.schema.json"
        assert (tmp_path / "out" / "schemas" / "catalog.schema.json").is_file()

    def test_modeline_points_at_an_enclosing_schemas_dir(self, tmp_path: Path) -> None:
        """Inside a repository with schemas/, the modeline points there instead."""
        (tmp_path / "schemas").mkdir()
        (tmp_path / "schemas" / "catalog.schema.json").write_text("{}")
        write_catalog(
            tmp_path / "cat" / "sub", resources_of(item("A")), settings="client_id: DEMO\n"
        )
        first = (tmp_path / "cat" / "sub" / "items.yaml").read_text().splitlines()[0]
        assert first.endswith("$schema=../../schemas/catalog.schema.json")

    def test_split_none_and_defaults_left_out(self, tmp_path: Path) -> None:
        """split_by none writes products.yaml; default-valued fields are not written."""
        write_catalog(tmp_path, resources_of(item("A")), split_by="none", schema_dir=tmp_path)
        assert (tmp_path / "products.yaml").read_text().splitlines()[1:] == [
            "products:",
            "  - sku: A",
            "    productType: ITEM",
            "    details: {}",
        ]

    def test_non_default_fields_are_written(self, tmp_path: Path) -> None:
        """active: false, another region, vendor details and options survive."""
        product = item(
            "A",
            active=False,
            fulfillmentRegion="ALL",
            vendorDetails=VendorDetails(name="V", number="1"),
            options=[ProductOption.model_validate({"color": "red", "sizes": [1, 2]})],
        )
        write_catalog(tmp_path, resources_of(product), settings="client_id: DEMO\n")
        assert load_catalog(tmp_path).resources.products == resources_of(product).products

    def test_large_groups_are_split_into_numbered_files(self, tmp_path: Path) -> None:
        """More than MAX_PER_FILE products are spread over numbered files."""
        products = [item(f"S{i:05d}") for i in range(MAX_PER_FILE + 1)]
        written = write_catalog(tmp_path, resources_of(*products), schema_dir=tmp_path)
        assert [p.name for p in written] == ["reconcile.yaml", "items-0001.yaml", "items-0002.yaml"]
        assert len(load_catalog(tmp_path).resources.products) == MAX_PER_FILE + 1

    def test_settings_model_keeps_environments(self, tmp_path: Path) -> None:
        """A settings model is written with client_id, default_environment and non-defaults."""
        settings = Settings(
            client_id="DEMO",
            default_environment="qa",
            environments={"qa": Environment(base_url="https://qa.example")},
        )
        write_catalog(tmp_path, resources_of(item("A")), settings=settings, schema_dir=tmp_path)
        assert (tmp_path / "reconcile.yaml").read_text().splitlines()[1:] == [
            "client_id: DEMO",
            "default_environment: qa",
            "environments:",
            "  qa:",
            "    base_url: https://qa.example",
        ]


class TestScalars:
    @pytest.mark.parametrize("text", TRICKY)
    def test_tricky_strings_read_back_as_written(self, tmp_path: Path, text: str) -> None:
        """Strings that look like other YAML values are quoted, and read back unchanged."""
        product = item("A", details=ProductDetails.model_validate({"description": text, "k": text}))
        write_catalog(tmp_path, resources_of(product), settings="client_id: DEMO\n")
        loaded = load_catalog(tmp_path).resources.products
        assert loaded == resources_of(product).products

    def test_plain_when_safe(self) -> None:
        """Ordinary text stays unquoted; look-alikes of other types are quoted."""
        assert scalar("Mug, 11 oz (white)") == "Mug, 11 oz (white)"
        assert scalar("yes") == "yes"  # YAML 1.2: a string
        assert scalar("true") == '"true"'
        assert scalar("007") == '"007"'


class TestRefusals:
    def test_existing_files_are_not_overwritten(self, tmp_path: Path) -> None:
        """Without replace, an existing reconcile.yaml or catalog file is a usage error."""
        (tmp_path / "reconcile.yaml").write_text("client_id: X\n")
        with pytest.raises(UsageError, match=r"reconcile.yaml already exist"):
            write_catalog(tmp_path, resources_of(item("A")), settings="client_id: DEMO\n")

    def test_replace_removes_old_catalog_files_only(self, tmp_path: Path) -> None:
        """replace deletes the old catalog files (no stale duplicates) but keeps other files."""
        (tmp_path / "old.yaml").write_text("products: []\n")
        (tmp_path / "README.md").write_text("keep me")
        write_catalog(tmp_path, resources_of(item("A")), settings="client_id: DEMO\n", replace=True)
        assert not (tmp_path / "old.yaml").exists()
        assert (tmp_path / "README.md").read_text() == "keep me"

    def test_several_clients_are_refused(self, tmp_path: Path) -> None:
        """Resources of two clients cannot form one catalog."""
        other = Product(clientId="OTHER", sku="B", productType="ITEM", details=ProductDetails())
        with pytest.raises(UsageError, match="several clients"):
            write_catalog(tmp_path, resources_of(item("A"), other))


TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20)


@st.composite
def random_products(draw: st.DrawFn) -> Product:
    details = draw(
        st.dictionaries(st.text("abcxyz", min_size=1, max_size=5), TEXT | st.integers(), max_size=3)
    )
    return Product(
        clientId="DEMO",
        sku=draw(st.text("ABC-012._", min_size=1, max_size=30).filter(lambda s: s.strip("."))),
        productType=draw(st.sampled_from(["ITEM", "KIT"])),
        details=ProductDetails.model_validate({"description": draw(TEXT), **details}),
        active=draw(st.booleans()),
    )


class TestProperties:
    @settings(max_examples=40, deadline=None)
    @given(st.lists(random_products(), max_size=5), st.data())
    def test_any_valid_catalog_round_trips(
        self, products: list[Product], data: st.DataObject
    ) -> None:
        """Random products (and a BOM over them) survive write then load unchanged."""
        import tempfile

        resources = resources_of(*products)
        kits = [p for p in resources.products.values() if p.productType == "KIT"]
        items = [p for p in resources.products.values() if p.sku not in {k.sku for k in kits}]
        if kits and items:
            resources.add_bom(
                Bom(
                    clientId="DEMO",
                    sku=kits[0].sku,
                    description=data.draw(st.text("abc ", min_size=1, max_size=30)),
                    billOfMaterialDetails=[BomComponent(sku=items[0].sku, quantity=2)],
                )
            )
        with tempfile.TemporaryDirectory() as tmp:
            write_catalog(Path(tmp), resources, settings="client_id: DEMO\n")
            loaded = load_catalog(Path(tmp)).resources
        assert loaded.products == resources.products
        assert loaded.boms == resources.boms
