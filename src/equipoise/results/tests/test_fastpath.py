"""The fast path gives exactly the line the slow path gives, or declines (see importing/fastpath.py).

Rows are drawn from pools of good and odd cells for a few mappings (the Equipoise preset, a CRM
export, European numbers, a mapping that creates what it does not know) and read both ways: alone,
the slow path (``RowMapper.read`` then ``LineResolver.resolve``); and the fast path first, the slow
path for what it declines. Every row must come out the same, and the mapper's window of external ids
must end the same.
"""

from __future__ import annotations

import copy
import itertools
import os
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from types import SimpleNamespace
from typing import Any
from unittest import mock

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from equipoise.core.access import Role
from equipoise.org.models import Customer, ProductApplication, ProductLine, Region
from equipoise.org.services import person_create
from equipoise.results.importing import fastpath, forked, resolve
from equipoise.results.importing import rows as rows_module
from equipoise.results.importing.config import MappingConfig
from equipoise.results.importing.fileimport import policy_of
from equipoise.results.importing.lines import Problem, RowInvalid, RowSkipped
from equipoise.results.importing.presets import PRESETS
from equipoise.results.importing.resolve import Directory, LineResolver
from equipoise.results.importing.rows import RowMapper
from equipoise.results.ingest import LineInput
from equipoise.results.models import ColumnMapping, ImportBatch, ResultLine
from equipoise.results.rollups import rollups_compare
from equipoise.results.services import results_import_file
from equipoise.results.tests.test_import_helpers import csv_bytes, write

# -- the organisation ---------------------------------------------------------------------------


@pytest.fixture
def references(org, catalog):
    """The test org and catalog, and names that are ambiguous or special in every way a row can meet."""
    cloud = ProductLine.objects.create(code="CLOUD", name="Cloud")
    ProductApplication.objects.create(product_line=cloud, code="STORE", name="Storage")
    ProductApplication.objects.create(product_line=cloud, code="FIBRE2", name="Fibre")  # "Fibre" is in two lines
    ProductApplication.objects.create(product_line=cloud, code="FEE", name="Fee")  # a non-product code of the CRM mapping
    for code in ("SH1", "SH2"):
        ProductLine.objects.create(code=code, name="Shared")
    for code in ("EAST", "WEST"):
        Region.objects.create(code=code, name="Shared")
    Customer.objects.create(code="NOOWNER", name="No Owner", home_region=org.south)
    Customer.objects.create(code="LONELY", name="Lonely", home_region=org.south, owner=org.sara)
    for code in ("TWIN1", "TWIN2"):
        Customer.objects.create(code=code, name="Twin", home_region=org.north, owner=org.sam)
    for _ in range(2):
        person_create(full_name="Pat Twin", role=Role.SELLER)
    person_create(full_name="Eve Email", role=Role.SELLER, email="eve@example.com")
    return org


# -- the mappings -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """A mapping's configuration and a file's header: (column, the pool its cells come from)."""

    config: dict[str, Any]
    header: tuple[tuple[str, str], ...]
    date_format: str = "%Y-%m-%d"  # how its good rows write dates and amounts
    decimal_point: str = "."


EQUIPOISE = Layout(
    PRESETS["equipoise"]["config"],
    (
        ("external_id", "external_id"), ("date", "date"), ("amount", "amount"), ("customer_code", "customer_code"),
        ("product_line", "product_line"), ("product_application", "product_application"), ("sellers", "sellers"),
        ("shares", "shares"), ("kind", "kind"), ("motion", "motion"), ("currency", "currency"), ("region", "region"),
        ("customer_name", "customer_name"),
    ),
)  # fmt: skip
CRM = Layout(
    {
        "source": "crm",
        "columns": {
            "external_id": ["Opportunity", "Line"],
            "date": "Close Date",
            "amount": "Amount",
            "currency": "Currency",
            "kind": "Kind",
            "customer_name": "Account",
            "seller": "Owner",
            "motion": "Type",
            "product_application": "Product",
            "region": "Region",
        },
        "optional_columns": ["Currency", "Region"],
        "filters": [{"column": "Stage", "in": ["Won"]}, {"column": "Status", "not_in": ["Cancelled"]}],
        "defaults": {"kind": "booking", "motion": "new", "currency": "USD", "product_line": "CONN"},
        "value_maps": {"motion": {"New Business": "new", "Upsell": "expansion"}, "kind": {"Closed Won": "booking"}},
        "product_aliases": {"StoragePro": "Storage"},
        "non_product_codes": ["postage", "fee"],
        "date_format": ["%m/%d/%Y", "iso"],
        "thousands_separator": ",",
        "seller_match": "name",
    },
    (
        ("Opportunity", "external_id"), ("Line", "line_number"), ("Stage", "stage"), ("Status", "status"), ("Close Date", "date"),
        ("Amount", "amount"), ("Kind", "kind"), ("Account", "customer_name"), ("Owner", "seller"), ("Type", "motion"),
        ("Product", "product_application"),
    ),
    date_format="%m/%d/%Y",
)  # fmt: skip
EUROPEAN = Layout(
    {
        "columns": {
            "external_id": "Référence",
            "date": "Date",
            "amount": "Montant",
            "customer_code": "Client",
            "customer_name": "Nom",
            "product_line": "Gamme",
            "sellers": "Vendeurs",
            "shares": "Parts",
            "region": "Région",
        },
        "optional_columns": ["Parts"],
        "defaults": {"kind": "invoice", "currency": "EUR", "region": "NORTH"},
        "date_format": "%d/%m/%Y",
        "decimal_separator": ",",
        "thousands_separator": ".",
        "seller_separator": "|",
        "seller_match": "username",
        "seller_fallback_to_owner": False,
    },
    (
        ("Référence", "external_id"), ("Date", "date"), ("Montant", "amount"), ("Client", "customer_code"), ("Nom", "customer_name"),
        ("Gamme", "product_line"), ("Vendeurs", "sellers_piped"), ("Région", "region"),
    ),
    date_format="%d/%m/%Y",
    decimal_point=",",
)  # fmt: skip
SPACED = Layout(
    {
        "columns": {"external_id": "id", "date": "day", "amount": "sum", "customer_code": "client", "seller": "by", "currency": "cur"},
        "defaults": {"product_line": "Connectivity"},
        "decimal_separator": ",",
        "thousands_separator": " ",
        "seller_match": "auto",
    },
    (("id", "external_id"), ("day", "date"), ("sum", "amount"), ("client", "customer_code"), ("by", "seller"), ("cur", "currency")),
    decimal_point=",",
)
CREATING = Layout(
    {
        **PRESETS["equipoise"]["config"],
        "unknown_customers": "create",
        "unknown_products": "create",
        "unknown_sellers": "create",
        "defaults": {"region": "NORTH", "product_line": "CONN"},
        "application_lines": {"Unknown": "CLOUD"},
    },
    EQUIPOISE.header,
)
LAYOUTS = {"equipoise": EQUIPOISE, "crm": CRM, "european": EUROPEAN, "spaced": SPACED, "creating": CREATING}

# -- the cells ----------------------------------------------------------------------------------

ODD_AMOUNTS = [
    "1000.00", "1000", "1000.5", "-250.10", "+12.34", "12.340", "1.005", "0", "-0", "0.00", "-0.00", "1,5", "1.234,56",
    "1,234.56", "1 234,56", "1'234.56", "(12.00)", "(12)", "1e3", ".5", "-.5", "5.", "-", ".", "+", "--5", "+-5", "abc", "",
    "  ", " 12.00 ", "١٢", "1_000", "99999999999999999999.00", "10000000000000.00", "10000000000000.01", "0012.00", "12.0000001",
    "1000000000000000000000000000000", "--5.00", "+-5.00", "5.-0", "-5.-0", ".-1", "-.-1", "+.50", "-.50", ".50",
    "-.", "1 234.56", "1\u00a0234,56",
]  # fmt: skip


def _amount(whole: int, fraction: str, sign: str, point: str) -> str:
    return f"{sign}{whole}{point}{fraction}"


def _grouped(whole: int, sign: str, separator: str, fraction: str) -> str:
    return sign + f"{whole:,}".replace(",", separator) + fraction


AMOUNTS = st.one_of(
    st.sampled_from(ODD_AMOUNTS),
    st.builds(
        _amount,
        st.integers(0, 10**14),
        st.text("0123456789", max_size=4),
        st.sampled_from(["", "-", "+"]),
        st.sampled_from([".", ",", ""]),
    ),
    st.builds(
        _grouped,
        st.integers(0, 10**9),
        st.sampled_from(["", "-"]),
        st.sampled_from([",", ".", " ", "'"]),
        st.sampled_from(["", ".5", ",50"]),
    ),
    st.text("0123456789.,-+ ()e'", max_size=8),
)
DATES = st.one_of(
    st.sampled_from(["2027-01-15", " 2027-01-15 ", "2027-02-30", "2027-1-5", "01/15/2027", "15/01/2027", "2027-01-15T10:00", ""]),
    st.sampled_from(["1899-12-31", "2200-01-01", "2027-01-15 09:30", "31/12/2026", "12/31/2026", "not a date", "2027-13-01"]),
    st.builds(
        lambda day, form: day.strftime(form),
        st.dates(min_value=date(1890, 1, 1), max_value=date(2210, 12, 31)),
        st.sampled_from(["%Y-%m-%d", "%m/%d/%Y", "%d/%m/%Y"]),
    ),
)


def _plain_amount(minor: int, places: int, point: str) -> str:
    sign = "-" if minor < 0 else ""
    whole, fraction = divmod(abs(minor), 10**places)
    return f"{sign}{whole}{point}{fraction:0{places}d}" if places else f"{sign}{whole}"


# Cells a row usually has; any of them may still be wrong for a layout (a date format, a match rule).
GOOD: dict[str, st.SearchStrategy[str]] = {
    "external_id": st.integers(1, 40).map(lambda number: f"L{number}"),
    "line_number": st.sampled_from(["1", "2"]),
    "stage": st.sampled_from(["Won", " won "]),
    "status": st.sampled_from(["", "Open"]),
    "currency": st.sampled_from(["", "EUR", "usd"]),
    "kind": st.sampled_from(["", "booking", "Invoice", "credit_note", "churn", "renewal"]),
    "motion": st.sampled_from(["", "new", "Expansion", "renewal"]),
    "customer_code": st.sampled_from(["ACME", "acme", "GLOBEX", "LONELY", "TWIN1"]),
    "customer_name": st.sampled_from(["Acme", "Globex", "Lonely", "No  Owner", "Twin"]),
    "product_line": st.sampled_from(["CONN", "Connectivity", "CLOUD", ""]),
    "product_application": st.sampled_from(["FIBRE", "Storage", "STORE", "", "StoragePro", " Fee "]),
    "region": st.sampled_from(["", "", "NORTH", "south"]),
    "seller": st.sampled_from(["Sam Seller", "Olga Seller", "sam  seller", "eve@example.com", "seller"]),
    "sellers": st.sampled_from(["seller", "other_seller", "Sam Seller", "eve@example.com", "seller;teammate"]),
    "sellers_piped": st.sampled_from(["seller", "seller|teammate", "other_seller"]),
    "shares": st.just(""),
}
GOOD_DATES = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))
GOOD_AMOUNTS = st.tuples(st.integers(-(10**12), 10**12), st.sampled_from([0, 1, 2, 2, 2]))
# Product lines with their applications, as a file names them.
PRODUCTS = [("CONN", "FIBRE"), ("Connectivity", "Fibre"), ("CLOUD", "Storage"), ("", "STORE"), ("CONN", ""), ("cloud", "fibre")]
# Sellers with their shares, as a split names them.
SPLITS = [
    ("seller;other_seller", "60;40"), ("Sam Seller;Sara Seller;Olga Seller", "33.33;33.33;33.34"), ("seller;teammate", "50%;50%"),
    ("seller", "100"), ("teammate;seller", "0.01;99.99"),
]  # fmt: skip
# Cells as odd as real files have them.
ODD: dict[str, st.SearchStrategy[str]] = {
    "external_id": st.sampled_from(["L1", "L2", "L3", "L4", " L1 ", ":L2:", "L3:", "", "  ", "X" * 129]),
    "line_number": st.sampled_from(["1", "2", "", " 1"]),
    "stage": st.sampled_from(["Won", "won", " Won ", "Lost", ""]),
    "status": st.sampled_from(["", "Open", "Cancelled", "cancelled "]),
    "date": DATES,
    "amount": AMOUNTS,
    "currency": st.sampled_from(["", "EUR", "usd", " JPY ", "KWD", "EU", "EURO", "€€€", "123", "eur"]),
    "kind": st.sampled_from(["", "booking", "Booking", " INVOICE ", "invoice", "credit_note", "CREDIT_NOTE", "churn", "renewal", "refund"])
    | st.just("Closed Won"),
    "motion": st.sampled_from(["", "new", "New", "expansion", "renewal", "upsell", "Upsell", "New Business"]),
    "customer_code": st.sampled_from(["ACME", "acme", " Acme ", "GLOBEX", "NOOWNER", "LONELY", "TWIN1", "UNKNOWN", "", " "]),
    "customer_name": st.sampled_from(["Acme", "acme  ", "Globex", "Twin", "Lonely", "Nobody", "", "No  Owner"]),
    "product_line": st.sampled_from(["CONN", "conn", "Connectivity", "CLOUD", "Cloud", "", "Unknown", "Shared", "SH1", "postage"]),
    "product_application": st.sampled_from(["FIBRE", "fibre", "Fibre", "StoragePro", "STORE", "Storage", "", "Unknown", "postage", "fee"]),
    "region": st.sampled_from(["", "NORTH", "north", " South ", "Shared", "EAST", "Atlantis"]),
    "seller": st.sampled_from(
        ["Sam Seller", "sam  seller", "Olga Seller", "Pat Twin", "Nobody", "", "seller", "eve@example.com", "EVE@example.com"]
    ),
    "sellers": st.sampled_from(
        [
            "seller",
            "Sam Seller",
            "seller;other_seller",
            "seller; other_seller",
            "eve@example.com",
            "EVE@example.com;seller",
            "Pat Twin",
            "nobody",
            "",
            ";",
            " ; ",
            "seller;seller",
            "seller;teammate;other_seller",
            "Sam Seller;Sara Seller",
            "sam seller;SELLER",
        ]
    ),
    "sellers_piped": st.sampled_from(["seller", "seller|teammate", "seller| other_seller", "seller|seller", "nobody", "", "Sam Seller"]),
    "shares": st.sampled_from(
        ["", "60;40", "50;50", "100", "33.33;66.67", "60%;40%", "70;40", "abc;1", "0;100", "60;40;0", "33.333;66.667", "1,5;98,5"]
    )
    | st.sampled_from([" 60 ; 40 ", "-10;110", "100;0", "40;30;30", "34;33;33"]),
}


@st.composite
def files(draw: st.DrawFn, layout: Layout) -> list[list[str]]:
    """Rows for a layout's header: mostly good cells with some odd ones; some rows again as they
    were, some ids again with other values, some rows cut short or too long or blank."""
    chance = draw(st.randoms(use_true_random=True))  # even odds: draws lean to the simplest values
    pools = [pool for _, pool in layout.header]
    rows: list[list[str]] = []
    for index in range(draw(st.integers(1, 12))):
        if rows and chance.random() < 0.1:
            rows.append(list(chance.choice(rows)))
            continue
        cells = [draw(GOOD[pool]) if pool in GOOD else "" for pool in pools]
        cells[pools.index("date")] = draw(GOOD_DATES).strftime(layout.date_format)
        cells[pools.index("amount")] = _plain_amount(*draw(GOOD_AMOUNTS), layout.decimal_point)
        if "product_line" in pools and "product_application" in pools:
            cells[pools.index("product_line")], cells[pools.index("product_application")] = chance.choice(PRODUCTS)
        if chance.random() < 0.85:
            cells[pools.index("external_id")] = f"R{index}"
        if "shares" in pools and chance.random() < 0.3:
            cells[pools.index("sellers")], cells[pools.index("shares")] = chance.choice(SPLITS)
        oddness = chance.random()
        for position, pool in enumerate(pools):
            if (0.5 < oddness < 0.75 and position == index % len(pools)) or (oddness >= 0.75 and chance.random() < 0.3):
                cells[position] = draw(ODD[pool])
        if chance.random() < 0.15:
            shape = chance.choice(["short", "long and blank", "long", "blank", "spaces"])
            if shape == "short":
                cells = cells[: chance.randrange(len(cells))]
            elif shape == "long and blank":
                cells += [""] * chance.randint(1, 2)
            elif shape == "long":
                cells += ["x"]
            elif shape == "blank":
                cells = [""] * len(cells)
            else:
                cells = [" " * chance.randint(0, 2) for _ in cells]
        rows.append(cells)
    return rows


# -- both ways ----------------------------------------------------------------------------------


@contextmanager
def creations_in_memory():
    """Customers, products and sellers "created" on import get ids from a counter, with no writes:
    two runs over the same rows create the same things with the same ids."""
    ids = itertools.count(1_000_000)

    def created(**values: Any) -> SimpleNamespace:
        return SimpleNamespace(pk=next(ids), name=values.get("name", ""), full_name=values.get("full_name", "").strip())

    with mock.patch.multiple(
        resolve, customer_create=created, product_line_create=created, product_application_create=created, person_create=created
    ):
        yield


def _parts(layout: Layout, directory: Directory | None) -> tuple[RowMapper, LineResolver]:
    config = MappingConfig.from_dict(layout.config)
    mapper = RowMapper(config=config, header=[column for column, _ in layout.header], default_currency="EUR")
    return mapper, LineResolver(source="test", policy=policy_of(config), directory=directory or Directory())


def _slow(mapper: RowMapper, resolver: LineResolver, row: int, cells: list[str]) -> Any:
    """What the slow path makes of a row: its line, or why it is skipped, or its problems."""
    try:
        return resolver.resolve(mapper.read(row, cells))
    except RowSkipped as skip:
        return ("skipped", skip.reason)
    except RowInvalid as invalid:
        return ("invalid", invalid.problems)


@dataclass
class Run:
    outcomes: list[Any]
    seen: dict[str, int]
    created: dict[str, int]
    fast_rows: list[int]


def _read_slowly(layout: Layout, rows: list[list[str]], directory: Directory | None = None) -> Run:
    """``directory``: one to share between runs, when the mapping creates nothing."""
    with creations_in_memory():
        mapper, resolver = _parts(layout, directory)
        outcomes = [_slow(mapper, resolver, number, cells) for number, cells in enumerate(rows, start=2)]
    return Run(outcomes, mapper._seen, resolver.created, [])


def _read_fast_first(layout: Layout, rows: list[list[str]], directory: Directory | None = None) -> Run:
    with creations_in_memory():
        mapper, resolver = _parts(layout, directory)
        fast = fastpath.fast_path(mapper=mapper, resolver=resolver)
        assert fast is not None
        outcomes, fast_rows = [], []
        for number, cells in enumerate(rows, start=2):
            seen_before = dict(mapper._seen)
            line = fast(number, list(cells))
            if line is None:
                assert mapper._seen == seen_before, "a declined row must leave the window of external ids as it was"
                outcomes.append(_slow(mapper, resolver, number, cells))
            else:
                outcomes.append(line)
                fast_rows.append(number)
    return Run(outcomes, mapper._seen, resolver.created, fast_rows)


PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.mark.parametrize("name", LAYOUTS)
def test_the_fast_path_gives_the_slow_paths_line_or_declines(references, name):
    layout = LAYOUTS[name]

    @PROPERTY_SETTINGS
    @given(rows=files(layout), window=st.sampled_from([2, 3, rows_module.SEEN_WINDOW]))
    def both_ways_agree(rows, window):
        with mock.patch.object(rows_module, "SEEN_WINDOW", window):
            slow = _read_slowly(layout, rows)
            fast = _read_fast_first(layout, rows)
        for number, (slow_outcome, fast_outcome) in enumerate(zip(slow.outcomes, fast.outcomes, strict=True), start=2):
            assert fast_outcome == slow_outcome, f"row {number}: {rows[number - 2]!r}"
        assert fast.seen == slow.seen
        assert fast.created == slow.created

    both_ways_agree()


GOOD_ROWS = {
    "equipoise": [
        ["E1", "2027-01-15", "1000.00", "ACME", "CONN", "FIBRE", "seller", "", "booking", "new", "", "", ""],
        ["E2", "2027-01-15", "-17902.2", "acme", "Connectivity", "Fibre", "seller;other_seller", "60;40", "invoice", "", "", "", ""],
        ["E3", "2027-01-16", "12", "GLOBEX", "CONN", "", "eve@example.com", "", "CREDIT_NOTE", "Expansion", "usd", "South", "x"],
        ["E4", "2027-01-16", "250.500", "LONELY", "CLOUD", "Storage", "Sam Seller;Sara Seller;olga seller", "", "churn", "", "", "", ""],
        ["E5", "2027-01-17", "7", "TWIN1", "CONN", "FIBRE", "", "", "renewal", "new", "JPY", "", ""],
        ["E6", "2027-01-17", "8.1", "TWIN1", "CONN", "FIBRE", "seller", "", "renewal", "new"],  # trailing blanks left out
        ["E7", "2027-01-17", "9", "GLOBEX", "CONN", "FIBRE", "seller", "", "", "", "", "", "", "", ""],  # and added
    ],
    "crm": [
        ["O1", "1", "Won", "", "01/15/2027", "1,234.50", "", "Acme", "Sam Seller", "New Business", "StoragePro"],
        ["O1", "2", " won ", "Open", "2027-01-15", "-99", "Closed Won", "Globex", "olga  seller", "", ""],
    ],
    "european": [
        ["R1", "15/01/2027", "1.234,50", "ACME", "", "CONN", "seller|teammate", ""],
        ["R2", "15/01/2027", "-12", "", "Lonely", "Cloud", "other_seller", "South"],
    ],
    "spaced": [
        ["S1", "2027-01-15", "1 234,5", "acme", "eve@example.com", "eur"],
        ["S2", "2027-01-15", "1\u00a0234,50", "GLOBEX", "seller", ""],
    ],
    "creating": [["C1", "2027-01-15", "1000.00", "ACME", "CONN", "FIBRE", "seller", "", "booking", "new", "", "", ""]],
}  # fmt: skip


ANY_TEXT = st.text(alphabet="0123456789.,;|-+ ()%e'_:aA@\u00a0", max_size=16)


def _any_cell(pool: str) -> st.SearchStrategy[str]:
    return ODD[pool] | GOOD.get(pool, ODD[pool]) | ANY_TEXT


def _agree(layout: Layout, rows: list[list[str]], directory: Directory | None) -> Run:
    slow = _read_slowly(layout, rows, directory)
    fast = _read_fast_first(layout, rows, directory)
    assert fast.outcomes == slow.outcomes, rows
    assert fast.seen == slow.seen and fast.created == slow.created
    return fast


@pytest.mark.parametrize("name", LAYOUTS)
def test_a_good_row_with_any_cell_changed(references, name):
    layout = LAYOUTS[name]
    pools = [pool for _, pool in layout.header]
    directory = None if name == "creating" else Directory()
    change = st.integers(0, len(pools) - 1).flatmap(lambda position: st.tuples(st.just(position), _any_cell(pools[position])))

    @PROPERTY_SETTINGS
    @given(changes=st.lists(change, min_size=1, max_size=2))
    def agree(changes):
        cells = list(GOOD_ROWS[name][0])
        for position, value in changes:
            cells[position] = value
        _agree(layout, [cells], directory)

    agree()


@pytest.mark.parametrize("name", ["equipoise", "crm", "european", "spaced"])
def test_amounts_read_as_the_slow_path_reads_them(references, name):
    layout = LAYOUTS[name]
    position = [pool for _, pool in layout.header].index("amount")
    directory = Directory()

    def read(amount: str) -> Run:
        cells = list(GOOD_ROWS[name][0])
        cells[position] = amount
        return _agree(layout, [cells], directory)

    extra = ["1000000000000.00", "10000000000000.00", "-10000000000000.00", "9999999999999.99", "1.", "-1,", "1.000.000,00"]
    taken = [amount for amount in [*ODD_AMOUNTS, *extra] if read(amount).fast_rows]
    assert taken

    @settings(PROPERTY_SETTINGS, max_examples=300)
    @given(amount=AMOUNTS | ANY_TEXT | st.text("0123456789.,-+ ", max_size=7))
    def agree(amount):
        read(amount)

    agree()


def test_splits_read_as_the_slow_path_reads_them(references):
    pools = [pool for _, pool in EQUIPOISE.header]
    directory = Directory()
    sellers = ["seller;other_seller", "seller;teammate;other_seller", "seller; ;other_seller", "seller;seller", "Pat Twin;seller"]
    shares = ["60;40", "100;0", "0;100", "-10;110", "40;30;30", "34;33;33", "33.333;66.667", "60%;40%", "60 % ; 40", "1,5;98,5", ""]
    for names, parts in itertools.product(sellers, shares):
        cells = list(GOOD_ROWS["equipoise"][0])
        cells[pools.index("sellers")], cells[pools.index("shares")] = names, parts
        _agree(EQUIPOISE, [cells], directory)


def test_a_name_made_ambiguous_by_a_creation_is_not_remembered(references):
    """Creating "Connectivity!" makes a product line with the code CONNECTIVITY: "Connectivity" then
    names two lines, and the slow path says so; the fast path, whose memos are off for what the
    mapping creates, declines."""
    good = GOOD_ROWS["creating"][0]
    rows = [["A1", *good[1:4], "Connectivity", "", *good[6:]], ["A2", *good[1:4], "Connectivity!", "", *good[6:]]]
    rows.append(["A3", *rows[0][1:]])
    fast = _agree(CREATING, rows, None)
    assert fast.fast_rows == [2]
    assert fast.outcomes[2] == ("invalid", [Problem("product_line", "Connectivity", "Several product lines have this name: use the code.")])


@pytest.mark.parametrize("name", LAYOUTS)
def test_good_rows_take_the_fast_path(references, name):
    layout = LAYOUTS[name]
    rows = GOOD_ROWS[name]
    slow = _read_slowly(layout, rows)
    fast = _read_fast_first(layout, rows)
    assert all(isinstance(outcome, LineInput) for outcome in slow.outcomes), slow.outcomes
    assert fast.fast_rows == list(range(2, len(rows) + 2))
    assert fast.outcomes == slow.outcomes and fast.seen == slow.seen


def test_what_the_fast_path_declines_the_slow_path_reads(references):
    layout = EQUIPOISE
    good = ["D1", "2027-01-15", "1000.00", "ACME", "CONN", "FIBRE", "seller", "", "booking", "new", "", "", ""]
    declined = [
        good,  # the same row again: a duplicate for the slow path to count
        [*good[:2], "1001.00", *good[3:]],  # the same id with other values: the slow path's error
        ["D2", *good[1:3], "UNKNOWN", *good[4:]],
        ["D3", good[1], "0.00", *good[3:]],
        ["D4", good[1], "(12.00)", *good[3:]],
        ["D5", *good[1:6], "seller;other_seller", "70;40", *good[8:]],
        ["D6", *good[1:], "x"],  # a value past the header
    ]
    fast = _read_fast_first(layout, [good, *declined])
    assert fast.fast_rows == [2]
    assert fast.outcomes[1:] == [
        ("skipped", "duplicate row"),
        ("invalid", [Problem("external_id", "D1", "Row 2 has the same external id with different values.")]),
        ("invalid", [Problem("customer_code", "UNKNOWN", "Unknown customer (the mapping rejects unknown customers).")]),
        ("skipped", "zero amount"),
        fast.outcomes[5],
        ("invalid", [Problem("shares", "70+40", "The sellers' shares sum to 110%, not 100%.")]),
        ("invalid", [Problem("", "14 values", "The row has 14 values but the header has 13 columns.")]),
    ]
    assert isinstance(fast.outcomes[5], LineInput) and fast.outcomes[5].amount_minor == -1200


def test_a_mapping_without_a_simple_case_has_no_fast_path(references):
    config = copy.deepcopy(PRESETS["equipoise"]["config"])
    del config["columns"]["amount"]
    config["columns"].update(quantity="quantity", unit_price="unit_price")
    header = [column for column, _ in EQUIPOISE.header if column != "amount"]
    mapper = RowMapper(config=MappingConfig.from_dict(config), header=[*header, "quantity", "unit_price"], default_currency="EUR")
    resolver = LineResolver(source="test", policy=policy_of(mapper.config))
    assert fastpath.fast_path(mapper=mapper, resolver=resolver) is None


def test_the_fast_path_knows_the_shape_of_line_input():
    """The fast path builds LineInput by position: should the fields change, it is off (update _LINE_FIELDS)."""
    assert LineInput._fields == fastpath._LINE_FIELDS
    values = (2, "s", "E1", "booking", date(2027, 1, 1), "EUR", 100, 1, 2, 3, None, "new", ((4, 10_000),), "0f" * 16)
    assert tuple.__new__(LineInput, values) == LineInput(*values)


# -- a whole import, both ways ------------------------------------------------------------------


def _line_indexes() -> list[tuple[str, ...]]:
    """The columns of every index on result lines."""
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, ResultLine._meta.db_table)
    return sorted(tuple(details["columns"]) for details in found.values() if details["index"] or details["unique"])


def _imported(monkeypatch, *, enabled: bool, forking: bool = False, **options: Any) -> tuple[Any, int]:
    """The import's batch, lines, issues and created references (rolled back), and how many rows the
    fast path read (counted only when reading in this process: ``forking`` reads in a child)."""
    monkeypatch.setattr(forked, "ENABLED", forking)
    taken = 0
    compile_fast_path = fastpath.fast_path

    def counting(**parts: Any) -> Any:
        fast = compile_fast_path(**parts)

        def line(row: int, cells: list[Any]) -> LineInput | None:
            nonlocal taken
            found = fast(row, cells) if fast is not None else None
            taken += found is not None
            return found

        return line

    monkeypatch.setattr(fastpath, "ENABLED", enabled)
    monkeypatch.setattr("equipoise.results.importing.fileimport.fast_path", counting)
    with transaction.atomic():
        batch = results_import_file(actor=None, **options)
        assert rollups_compare() == []
        state = (
            ImportBatch.objects.filter(pk=batch.pk).values_list(
                "status",
                "rows_read",
                "rows_skipped",
                "rows_rejected",
                "lines_created",
                "lines_corrected",
                "lines_unchanged",
                "skipped_reasons",
            )[0],
            list(batch.issues.order_by("row_number", "id").values_list("row_number", "column", "value", "reason", "quarantined_row")),
            sorted(
                ResultLine.objects.values_list(
                    "source",
                    "external_id",
                    "seller__full_name",
                    "share_bp",
                    "kind",
                    "measure",
                    "occurred_on",
                    "currency",
                    "line_amount_minor",
                    "amount_minor",
                    "customer__code",
                    "region__code",
                    "product_line__code",
                    "product_application__code",
                    "motion",
                    "version",
                )
            ),
            sorted(Customer.objects.values_list("code", "name", "home_region__code")),
            sorted(ProductApplication.objects.values_list("code", "product_line__code")),
            sorted(ResultLine.objects.values_list("seller__full_name", flat=True).distinct()),
            _line_indexes(),  # as they were: an index set aside for the import is built again before it ends
        )
        transaction.set_rollback(True)
    return state, taken


# One odd cell in every third row of the mixed file; the other rows are valid.
ODD_CELLS = [
    ("customer_code", "NEWCO"), ("sellers", "New Person"), ("amount", "0"), ("amount", "(3.00)"), ("date", "2027-02-30"),
    ("product_line", "Unknown"), ("kind", "refund"), ("shares", "70;40"), ("customer_code", "acme"), ("product_application", "Unknown"),
]  # fmt: skip


def _mixed_file(tmp_path, rows: int) -> Any:
    lines = []
    for index in range(rows):
        line = {
            "external_id": f"M{index % (rows - 7)}",  # the last rows repeat ids, most with other values
            "date": ["2027-01-15", "2027-03-01"][index % 2],
            "amount": ["1000.00", "-12.5", "7", "1.10"][index % 4],
            "customer_code": ["ACME", "GLOBEX", "LONELY"][index % 3],
            "product_line": ["CONN", "CLOUD"][index % 2],
            "product_application": ["FIBRE", "Storage"][index % 2],
            "sellers": ["seller", "seller;other_seller", "eve@example.com", ""][index % 4],
            "shares": "60;40" if index % 4 == 1 else "",
            "kind": ["booking", "invoice", "credit_note", "churn", "Renewal", ""][index % 6],
            "motion": ["new", "Expansion", ""][index % 3],
        }
        if index % 3 == 0:
            field, value = ODD_CELLS[index // 3 % len(ODD_CELLS)]
            line[field] = value
        lines.append(line)
    lines.append(dict(lines[1]))  # an exact repeat
    return write(tmp_path, "mixed.csv", csv_bytes(lines))


@pytest.mark.parametrize("mode", ["quarantine", "all_or_nothing"])
@pytest.mark.parametrize("creating", [False, True], ids=["rejecting", "creating"])
def test_a_file_imports_the_same_with_and_without_the_fast_path(references, monkeypatch, tmp_path, mode, creating):
    mapping_name = "equipoise"
    if creating:
        ColumnMapping.objects.create(name="creating", config=CREATING.config)
        mapping_name = "creating"
    path = _mixed_file(tmp_path, 90)
    options = {"path_or_file": path, "mapping_name": mapping_name, "mode": mode, "chunk_lines": 7}
    slow, slow_taken = _imported(monkeypatch, enabled=False, **options)
    fast, fast_taken = _imported(monkeypatch, enabled=True, **options)
    assert slow_taken == 0 and fast_taken > 10
    assert fast == slow
    assert slow[0][1] == 91 and slow[0][3] > 0  # every row read, and some rejected


@pytest.mark.parametrize("mode", ["quarantine", "all_or_nothing"])
def test_a_file_read_in_a_second_process_imports_the_same(references, monkeypatch, tmp_path, mode):
    """Rows read in a forked child and sent over a pipe, in chunks smaller than the file, give the
    same batch, issues and lines as rows read here."""
    monkeypatch.setattr(forked, "CHUNK_ROWS", 4)
    options = {"path_or_file": _mixed_file(tmp_path, 90), "mapping_name": "equipoise", "mode": mode, "chunk_lines": 7}
    here, _ = _imported(monkeypatch, enabled=True, forking=False, **options)
    zombies = _zombie_children()
    monkeypatch.setitem(forked.LAST_READER, "private_mib", 0.0)
    there, taken_here = _imported(monkeypatch, enabled=True, forking=True, **options)
    assert taken_here == 0  # the fast path ran in the child
    assert forked.LAST_READER["private_mib"] > 0  # the child said how much memory of its own it used
    assert there == here
    assert here[0][1] == 91 and here[0][3] > 0
    assert _zombie_children() == zombies  # the child was waited for


def test_a_file_read_in_a_second_process_with_small_buffers_imports_the_same(references, monkeypatch, tmp_path):
    """With the ingest's buffers a few rows long, a forked import writes held rows while its reader
    is busy near the end of the file, sums the window once at the end when the rest is small, and
    (SQLite) sets the customer index aside: the batch, issues, lines and rollups are still what an
    import in this process with the usual buffers gives, and the lines' indexes are all there after."""
    from equipoise.results import ingest

    options = {"path_or_file": _mixed_file(tmp_path, 90), "mapping_name": "equipoise", "mode": "quarantine", "chunk_lines": 7}
    here, _ = _imported(monkeypatch, enabled=True, forking=False, **options)
    monkeypatch.setattr(forked, "CHUNK_ROWS", 4)
    for name, value in {"LINE_BUFFER_ROWS": 9, "IDLE_WRITE_ROWS": 2, "FLUSH_ROWS": 12, "SET_ASIDE_ROWS": 1}.items():
        monkeypatch.setattr(ingest, name, value)
    set_aside = []
    decide = ingest.Ingestor._set_aside_index

    def deciding(self: ingest.Ingestor, held: int) -> None:
        decide(self, held)
        set_aside.append(self._set_aside_sql is not None)

    monkeypatch.setattr(ingest.Ingestor, "_set_aside_index", deciding)
    there, _ = _imported(monkeypatch, enabled=True, forking=True, **options)
    assert set_aside == ([True] if connection.vendor == "sqlite" else [])
    assert there == here
    assert ("customer_id", "occurred_on") in here[-1]


def _zombie_children() -> int:
    """Child processes of this one that ended and were not waited for."""
    found = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            found += fields[0] == "Z" and int(fields[1]) == os.getpid()
    return found


def test_a_clean_file_imports_the_same_with_and_without_the_fast_path(references, monkeypatch, tmp_path):
    rows = [[column for column, _ in EQUIPOISE.header], *GOOD_ROWS["equipoise"]]
    path = write(tmp_path, "clean.csv", "".join(",".join(cells) + "\n" for cells in rows).encode())
    options = {"path_or_file": path, "mapping_name": "equipoise", "chunk_lines": 2}
    slow, _ = _imported(monkeypatch, enabled=False, **options)
    fast, fast_taken = _imported(monkeypatch, enabled=True, **options)
    assert fast_taken == len(rows) - 1
    assert fast == slow
    assert slow[0][:5] == ("committed", 7, 0, 0, 7)
