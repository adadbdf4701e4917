"""What a column mapping says: the schema of ``ColumnMapping.config``.

A mapping's ``config`` is a JSON object. Every key is optional unless marked *required*; column
names match the file's header exactly after trimming spaces, ignoring case.

``columns`` (*required*) — which column holds each field:

=======================  =================================================================================
field                    meaning
=======================  =================================================================================
``external_id``          *required*. The line's id in the source system: a column, or a list of columns
                         joined with ``:`` (e.g. ``["InvoiceNo", "StockCode"]``).
``date``                 *required*. When the result happened (see ``date_format``).
``amount``               The line's amount in major units (``1234.50``). Either this or both of:
``quantity``             … a quantity (negative for a cancellation) and
``unit_price``           … a unit price; amount = quantity × unit price, rounded to the currency's minor unit.
``currency``             ISO 4217 code; blank or unmapped → ``defaults.currency``, else the company's currency.
``kind``                 booking, invoice, credit_note, renewal or churn (through ``value_maps.kind``);
                         blank or unmapped → ``defaults.kind`` (booking).
``customer_code``        The customer's code. Matched exactly (ignoring case).
``customer_name``        The customer's name. Used to match when there is no code (ignoring case and
                         repeated spaces), and to name a created customer.
``product_application``  A product application's code or name (after ``product_aliases``).
``product_line``         A product line's code or name; when an application is given, its line is used.
``region``               A region's code or name; blank or unmapped → the customer's home region.
``seller``               One seller credited with 100%.
``sellers``              Several sellers separated by ``seller_separator`` (``"Ann;Bob"``), with
``shares``               … their shares in percent separated the same way (``"60;40"``), summing to 100.
                         Without ``shares`` the sellers split equally.
``motion``               new, renewal or expansion (through ``value_maps.motion``); blank → ``defaults.motion``.
=======================  =================================================================================

Other keys:

- ``source``: the result source the lines belong to (idempotency is by source and external id);
  default: the mapping's name. The import's ``--source`` overrides it.
- ``optional_columns``: mapped columns that may be absent from a file (then read as blank).
- ``defaults``: ``currency``, ``kind``, ``motion``, ``region`` (code or name: a created customer's
  home region when the file has none), ``product_line`` (code or name: used when a row names no
  product, and as the line of a created application).
- ``value_maps``: ``{"kind": {"Closed Won": "booking"}, "motion": {"New Business": "new"}}``; keys
  ignore case. Values already valid (``renewal``) need no entry.
- ``product_aliases``: ``{"GTXPro": "GTX Pro"}``: a product value as written in the file → the name
  or code to look up.
- ``application_lines``: ``{"GTX Pro": "GTX"}``: the product line of an application created on import.
- ``non_product_codes``: product values that are not products (postage, fees); such rows are skipped
  and counted as "non-product line".
- ``filters``: ``[{"column": "Stage", "in": ["Closed Won"]}]``: only rows whose column holds one of
  the values (ignoring case) are results; the others are skipped and counted as "<column> is <value>".
  ``{"column": "Status", "not_in": ["Cancelled"]}`` skips the listed values instead.
- ``date_format``: ``"iso"`` (default: ``2027-01-31``, a time after it is ignored) or a ``strptime``
  format such as ``"%d/%m/%Y"``, or a list of them tried in order.
- ``decimal_separator``: ``"."`` (default) or ``","``; ``thousands_separator``: ``""`` (default),
  ``","``, ``"."``, ``" "`` or ``"'"``.
- ``delimiter``: ``"auto"`` (default: sniffed among comma, semicolon and tab), ``","``, ``";"`` or ``"\\t"``.
- ``seller_separator``: default ``";"``.
- ``seller_match``: how a seller value finds a person: ``"auto"`` (default: an e-mail address, else a
  user name, else a full name), ``"name"``, ``"email"`` or ``"username"``.
- ``seller_fallback_to_owner``: when a row names no seller, credit the customer's owner (default true).
- ``unknown_customers``, ``unknown_products``, ``unknown_sellers``: ``"reject"`` (default: the row is
  an error) or ``"create"``. A created customer needs a home region (the row's region, else
  ``defaults.region``); a created seller has no manager until placed in the organisation; sellers
  matched by user name are never created.
- ``sheet``: the XLSX worksheet to read (default: the first).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from equipoise.core.errors import ApplicationError
from equipoise.org.models import Motion
from equipoise.results.models import ResultKind

FIELDS = (
    "external_id", "date", "amount", "quantity", "unit_price", "currency", "kind", "customer_code", "customer_name",
    "product_application", "product_line", "region", "seller", "sellers", "shares", "motion",
)  # fmt: skip
FIELD_LABELS = {
    "external_id": "External id",
    "date": "Date",
    "amount": "Amount",
    "quantity": "Quantity",
    "unit_price": "Unit price",
    "currency": "Currency",
    "kind": "Kind",
    "customer_code": "Customer code",
    "customer_name": "Customer name",
    "product_application": "Product application",
    "product_line": "Product line",
    "region": "Region",
    "seller": "Seller",
    "sellers": "Sellers (several)",
    "shares": "Seller shares (%)",
    "motion": "Motion",
}
DEFAULT_KEYS = ("currency", "kind", "motion", "region", "product_line")
UNKNOWN_POLICIES = ("reject", "create")
SELLER_MATCHES = ("auto", "name", "email", "username")
DELIMITERS = ("auto", ",", ";", "\t")
DECIMAL_SEPARATORS = (".", ",")
THOUSANDS_SEPARATORS = ("", ",", ".", " ", "'")


def _fail(message: str, key: str) -> ApplicationError:
    return ApplicationError(message, field=key)


def _text(value: Any, key: str) -> str:
    if not isinstance(value, str):
        raise _fail(f"{key} must be text.", key)
    return value


def _text_list(value: Any, key: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _fail(f"{key} must be a list of texts.", key)
    return list(value)


def _text_map(value: Any, key: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise _fail(f"{key} must map texts to texts.", key)
    return dict(value)


def _choice(value: Any, key: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        shown = ", ".join(repr(choice) for choice in choices)
        raise _fail(f"{key} is {value!r}: use one of {shown}.", key)
    return str(value)


@dataclass(frozen=True)
class RowFilter:
    column: str
    values: frozenset[str]  # casefolded
    keep: bool  # True: keep rows whose value is listed ("in"); False: skip them ("not_in")


@dataclass(frozen=True)
class MappingConfig:
    """A validated mapping configuration (see the module docstring for the JSON it comes from)."""

    columns: dict[str, list[str]]
    source: str = ""
    optional_columns: frozenset[str] = frozenset()
    defaults: dict[str, str] = field(default_factory=dict)
    value_maps: dict[str, dict[str, str]] = field(default_factory=dict)
    product_aliases: dict[str, str] = field(default_factory=dict)
    application_lines: dict[str, str] = field(default_factory=dict)
    non_product_codes: frozenset[str] = frozenset()
    filters: tuple[RowFilter, ...] = ()
    date_formats: tuple[str, ...] = ("iso",)
    decimal_separator: str = "."
    thousands_separator: str = ""
    delimiter: str = "auto"
    seller_separator: str = ";"
    seller_match: str = "auto"
    seller_fallback_to_owner: bool = True
    unknown_customers: str = "reject"
    unknown_products: str = "reject"
    unknown_sellers: str = "reject"
    sheet: str = ""

    @classmethod
    def from_dict(cls, raw: Any) -> MappingConfig:
        """Validate a mapping's JSON; a mistake raises ApplicationError naming the key."""
        if not isinstance(raw, dict):
            raise _fail("The mapping configuration must be a JSON object.", "config")
        unknown = set(raw) - {
            "columns", "source", "optional_columns", "defaults", "value_maps", "product_aliases", "application_lines",
            "non_product_codes", "filters", "date_format", "decimal_separator", "thousands_separator", "delimiter",
            "seller_separator", "seller_match", "seller_fallback_to_owner", "unknown_customers", "unknown_products",
            "unknown_sellers", "sheet",
        }  # fmt: skip
        if unknown:
            raise _fail(f"Unknown mapping setting {sorted(unknown)[0]!r}.", sorted(unknown)[0])
        raw_columns = raw.get("columns")
        if not isinstance(raw_columns, dict):
            raise _fail("The mapping needs 'columns': which column holds each field.", "columns")
        columns: dict[str, list[str]] = {}
        for name, value in raw_columns.items():
            if name not in FIELDS:
                raise _fail(f"{name!r} is not a field: use {', '.join(FIELDS)}.", "columns")
            names = [item.strip() for item in _text_list(value, f"columns.{name}") if item.strip()]
            if names:
                if len(names) > 1 and name != "external_id":
                    raise _fail(f"Only external_id may combine several columns, not {name}.", f"columns.{name}")
                columns[name] = names
        for required in ("external_id", "date"):
            if required not in columns:
                raise _fail(f"The mapping needs a column for {FIELD_LABELS[required].lower()}.", required)
        if "amount" not in columns and not ("quantity" in columns and "unit_price" in columns):
            raise _fail("The mapping needs an amount column, or both a quantity and a unit price column.", "amount")
        if "seller" in columns and "sellers" in columns:
            raise _fail("Map either one seller column or a sellers column, not both.", "sellers")
        if "shares" in columns and "sellers" not in columns:
            raise _fail("A shares column needs a sellers column.", "shares")
        defaults = _text_map(raw.get("defaults", {}), "defaults")
        for key, value in defaults.items():
            if key not in DEFAULT_KEYS:
                raise _fail(f"{key!r} has no default: defaults are for {', '.join(DEFAULT_KEYS)}.", "defaults")
            if key == "kind" and value not in ResultKind.values:
                raise _fail(f"Default kind {value!r} is not one of {', '.join(ResultKind.values)}.", "defaults.kind")
            if key == "motion" and value not in Motion.values:
                raise _fail(f"Default motion {value!r} is not one of {', '.join(Motion.values)}.", "defaults.motion")
            if key == "currency" and (len(value) != 3 or not value.isalpha() or not value.isupper()):
                raise _fail(f"Default currency {value!r} is not a three-letter code such as EUR.", "defaults.currency")
        raw_maps = raw.get("value_maps", {})
        if not isinstance(raw_maps, dict):
            raise _fail("value_maps must be an object.", "value_maps")
        value_maps: dict[str, dict[str, str]] = {}
        for name, mapping in raw_maps.items():
            allowed = {"kind": ResultKind.values, "motion": Motion.values}.get(name)
            if allowed is None:
                raise _fail(f"Values of {name!r} cannot be mapped: only kind and motion.", "value_maps")
            entries = _text_map(mapping, f"value_maps.{name}")
            for source_value, target in entries.items():
                if target not in allowed:
                    raise _fail(f"{source_value!r} maps to {target!r}, which is not one of {', '.join(allowed)}.", f"value_maps.{name}")
            value_maps[name] = {key.strip().casefold(): target for key, target in entries.items()}
        filters = []
        raw_filters = raw.get("filters", [])
        if not isinstance(raw_filters, list):
            raise _fail("filters must be a list.", "filters")
        for item in raw_filters:
            if not isinstance(item, dict) or "column" not in item or (("in" in item) == ("not_in" in item)):
                raise _fail('Each filter is {"column": …, "in": [values]} or {"column": …, "not_in": [values]}.', "filters")
            keep = "in" in item
            values = _text_list(item["in" if keep else "not_in"], "filters")
            filters.append(RowFilter(_text(item["column"], "filters").strip(), frozenset(v.strip().casefold() for v in values), keep))
        date_formats = tuple(_text_list(raw.get("date_format", "iso"), "date_format")) or ("iso",)
        for date_format in date_formats:
            if date_format != "iso" and "%" not in date_format:
                raise _fail(f"Date format {date_format!r} is neither 'iso' nor a strptime format such as %d/%m/%Y.", "date_format")
        decimal_separator = _choice(raw.get("decimal_separator", "."), "decimal_separator", DECIMAL_SEPARATORS)
        thousands_separator = _choice(raw.get("thousands_separator", ""), "thousands_separator", THOUSANDS_SEPARATORS)
        if decimal_separator == thousands_separator:
            raise _fail("The decimal and thousands separators must differ.", "thousands_separator")
        seller_separator = _text(raw.get("seller_separator", ";"), "seller_separator")
        if len(seller_separator) != 1:
            raise _fail("The seller separator is one character, such as ; or |.", "seller_separator")
        fallback = raw.get("seller_fallback_to_owner", True)
        if not isinstance(fallback, bool):
            raise _fail("seller_fallback_to_owner is true or false.", "seller_fallback_to_owner")
        return cls(
            columns=columns,
            source=_text(raw.get("source", ""), "source").strip(),
            optional_columns=frozenset(c.strip().casefold() for c in _text_list(raw.get("optional_columns", []), "optional_columns")),
            defaults=defaults,
            value_maps=value_maps,
            product_aliases={
                k.strip().casefold(): v.strip() for k, v in _text_map(raw.get("product_aliases", {}), "product_aliases").items()
            },
            application_lines={
                k.strip().casefold(): v.strip() for k, v in _text_map(raw.get("application_lines", {}), "application_lines").items()
            },
            non_product_codes=frozenset(c.strip().casefold() for c in _text_list(raw.get("non_product_codes", []), "non_product_codes")),
            filters=tuple(filters),
            date_formats=date_formats,
            decimal_separator=decimal_separator,
            thousands_separator=thousands_separator,
            delimiter=_choice(raw.get("delimiter", "auto"), "delimiter", DELIMITERS),
            seller_separator=seller_separator,
            seller_match=_choice(raw.get("seller_match", "auto"), "seller_match", SELLER_MATCHES),
            seller_fallback_to_owner=fallback,
            unknown_customers=_choice(raw.get("unknown_customers", "reject"), "unknown_customers", UNKNOWN_POLICIES),
            unknown_products=_choice(raw.get("unknown_products", "reject"), "unknown_products", UNKNOWN_POLICIES),
            unknown_sellers=_choice(raw.get("unknown_sellers", "reject"), "unknown_sellers", UNKNOWN_POLICIES),
            sheet=_text(raw.get("sheet", ""), "sheet").strip(),
        )

    def required_columns(self) -> list[str]:
        """Every column the file must have: mapped ones that are not optional, and filtered ones."""
        # In the order of FIELDS, not the stored config's: PostgreSQL's jsonb keeps keys sorted by length.
        fields = sorted(self.columns, key=lambda field: FIELDS.index(field) if field in FIELDS else len(FIELDS))
        needed = [name for field in fields for name in self.columns[field] if name.casefold() not in self.optional_columns]
        needed += [row_filter.column for row_filter in self.filters]
        return list(dict.fromkeys(needed))
