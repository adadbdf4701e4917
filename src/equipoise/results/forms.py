"""Input parsing for the import pages: the upload form and the column-mapping form.

The mapping form shows a mapping's JSON configuration (see ``results.importing.config``) as one
field per setting, and turns it back into that JSON; the service validates it.
"""

from __future__ import annotations

from typing import Any

from django import forms

from equipoise.core.forms import StyledForm
from equipoise.org.models import Motion
from equipoise.results.importing.config import FIELD_LABELS, FIELDS
from equipoise.results.models import BatchMode, ColumnMapping, ResultKind

MAX_UPLOAD_BYTES = 512 * 1024 * 1024


class UploadForm(StyledForm):
    file = forms.FileField(
        label="File",
        help_text="CSV (comma, semicolon or tab; UTF-8 or Windows-1252) or XLSX.",
        error_messages={"required": "Choose the file to import.", "empty": "The file is empty: choose a file with a header and rows."},
    )
    mapping = forms.ChoiceField(label="Column mapping")
    mode = forms.ChoiceField(
        label="If some rows are invalid",
        choices=[
            (BatchMode.ALL_OR_NOTHING.value, "Import nothing (all or nothing)"),
            (BatchMode.QUARANTINE.value, "Import the valid rows, quarantine the others"),
        ],
        initial=BatchMode.ALL_OR_NOTHING.value,
        widget=forms.RadioSelect,
    )
    source = forms.CharField(label="Source", required=False, max_length=64, help_text="Blank: the mapping's source.")
    force = forms.BooleanField(label="Import even if this file was imported before", required=False)

    def __init__(self, *args: Any, mappings: list[ColumnMapping], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["mapping"].choices = [  # type: ignore[attr-defined]
            (mapping.name, f"{mapping.name} (built-in)" if mapping.is_preset else mapping.name) for mapping in mappings
        ]
        self.fields["file"].widget.attrs["accept"] = ".csv,.txt,.tsv,.xlsx,text/csv"
        self.style()

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB: import it with `equipoise import`."
            )
        return upload


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _pairs(text: str, label: str) -> dict[str, str]:
    pairs = {}
    for number, line in enumerate(_lines(text), start=1):
        key, separator, value = line.partition("=")
        if not separator or not key.strip() or not value.strip():
            raise forms.ValidationError(f"Line {number} of {label} is “{line}”: write it as value = meaning.")
        pairs[key.strip()] = value.strip()
    return pairs


def _pairs_text(mapping: dict[str, str]) -> str:
    return "\n".join(f"{key} = {value}" for key, value in mapping.items())


CHOICE_BLANK = [("", "—")]


class MappingForm(StyledForm):
    """A column mapping: a column per field, formats, defaults, value maps, filters and policies."""

    name = forms.SlugField(label="Name", max_length=120, help_text="Letters, digits and hyphens, e.g. billing-weekly.")
    description = forms.CharField(label="Description", max_length=300, required=False)
    source = forms.CharField(label="Source", max_length=64, required=False, help_text="The source the lines belong to (default: the name).")
    optional_columns = forms.CharField(
        label="Optional columns", required=False, help_text="Mapped columns a file may lack, comma-separated."
    )
    default_currency = forms.CharField(label="Default currency", max_length=3, required=False, help_text="Blank: the company's currency.")
    default_kind = forms.ChoiceField(label="Default kind", choices=CHOICE_BLANK + list(ResultKind.choices), required=False)
    default_motion = forms.ChoiceField(label="Default motion", choices=CHOICE_BLANK + list(Motion.choices), required=False)
    default_region = forms.CharField(
        label="Default region", required=False, help_text="Code or name: the home region of created customers."
    )
    default_product_line = forms.CharField(
        label="Default product line", required=False, help_text="Code or name, for rows without a product."
    )
    kind_map = forms.CharField(
        label="Kind values", required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="One per line: Invoice = invoice"
    )
    motion_map = forms.CharField(
        label="Motion values", required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="One per line: New Business = new"
    )
    product_aliases = forms.CharField(
        label="Product aliases", required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="One per line: GTXPro = GTX Pro"
    )
    application_lines = forms.CharField(
        label="Lines of new products", required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="One per line: GTX Pro = GTX"
    )
    non_product_codes = forms.CharField(
        label="Non-product codes",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line (postage, fees): skipped.",
    )
    filters = forms.CharField(
        label="Filters",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line: Stage = Closed Won | Won keeps only those rows; Status != Cancelled skips those.",
    )
    date_format = forms.CharField(
        label="Date formats", initial="iso", required=False, help_text="iso, or strptime formats such as %d/%m/%Y, separated by |."
    )
    decimal_separator = forms.ChoiceField(label="Decimal separator", choices=[(".", "point ."), (",", "comma ,")])
    thousands_separator = forms.ChoiceField(
        label="Thousands separator",
        choices=[("", "none"), (",", "comma ,"), (".", "point ."), (" ", "space"), ("'", "apostrophe '")],
        required=False,
    )
    delimiter = forms.ChoiceField(label="CSV delimiter", choices=[("auto", "detect"), (",", "comma"), (";", "semicolon"), ("\t", "tab")])
    seller_separator = forms.CharField(label="Seller separator", max_length=1, initial=";", strip=False)
    seller_match = forms.ChoiceField(
        label="Sellers are named by",
        choices=[("auto", "e-mail, user name or full name"), ("name", "full name"), ("email", "e-mail"), ("username", "user name")],
    )
    seller_fallback_to_owner = forms.BooleanField(label="No seller: credit the customer's owner", required=False, initial=True)
    unknown_customers = forms.ChoiceField(label="Unknown customers", choices=[("reject", "reject the row"), ("create", "create them")])
    unknown_products = forms.ChoiceField(label="Unknown products", choices=[("reject", "reject the row"), ("create", "create them")])
    unknown_sellers = forms.ChoiceField(label="Unknown sellers", choices=[("reject", "reject the row"), ("create", "create them")])
    sheet = forms.CharField(label="XLSX sheet", required=False, help_text="Blank: the first sheet.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in FIELDS:
            help_text = "Several columns joined with +" if name == "external_id" else ""
            self.fields[f"column_{name}"] = forms.CharField(label=FIELD_LABELS[name], required=False, max_length=200, help_text=help_text)
        self.style()

    column_names = [f"column_{name}" for name in FIELDS]

    def column_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.column_names]

    @staticmethod
    def initial_from(mapping: ColumnMapping | None, *, copy: bool = False) -> dict[str, Any]:
        if mapping is None:
            return {"date_format": "iso", "seller_separator": ";", "seller_fallback_to_owner": True, "delimiter": "auto"}
        config = mapping.config or {}
        defaults = config.get("defaults", {})
        maps = config.get("value_maps", {})
        filters = []
        for item in config.get("filters", []):
            values = item.get("in", item.get("not_in", []))
            values = [values] if isinstance(values, str) else values
            filters.append(f"{item.get('column', '')} {'=' if 'in' in item else '!='} {' | '.join(values)}")
        date_format = config.get("date_format", "iso")
        initial: dict[str, Any] = {
            "name": f"{mapping.name}-copy" if copy else mapping.name,
            "description": mapping.description,
            "source": config.get("source", ""),
            "optional_columns": ", ".join(config.get("optional_columns", [])),
            "default_currency": defaults.get("currency", ""),
            "default_kind": defaults.get("kind", ""),
            "default_motion": defaults.get("motion", ""),
            "default_region": defaults.get("region", ""),
            "default_product_line": defaults.get("product_line", ""),
            "kind_map": _pairs_text(maps.get("kind", {})),
            "motion_map": _pairs_text(maps.get("motion", {})),
            "product_aliases": _pairs_text(config.get("product_aliases", {})),
            "application_lines": _pairs_text(config.get("application_lines", {})),
            "non_product_codes": "\n".join(config.get("non_product_codes", [])),
            "filters": "\n".join(filters),
            "date_format": " | ".join(date_format) if isinstance(date_format, list) else date_format,
            "decimal_separator": config.get("decimal_separator", "."),
            "thousands_separator": config.get("thousands_separator", ""),
            "delimiter": config.get("delimiter", "auto"),
            "seller_separator": config.get("seller_separator", ";"),
            "seller_match": config.get("seller_match", "auto"),
            "seller_fallback_to_owner": config.get("seller_fallback_to_owner", True),
            "unknown_customers": config.get("unknown_customers", "reject"),
            "unknown_products": config.get("unknown_products", "reject"),
            "unknown_sellers": config.get("unknown_sellers", "reject"),
            "sheet": config.get("sheet", ""),
        }
        for name, columns in config.get("columns", {}).items():
            initial[f"column_{name}"] = " + ".join(columns) if isinstance(columns, list) else columns
        return initial

    def _clean_pairs(self, name: str, label: str) -> dict[str, str]:
        try:
            return _pairs(self.cleaned_data.get(name, ""), label)
        except forms.ValidationError as error:
            self.add_error(name, error)
            return {}

    def to_config(self) -> dict[str, Any]:
        """The JSON configuration the form describes (call after ``is_valid``)."""
        data = self.cleaned_data
        columns: dict[str, Any] = {}
        for name in FIELDS:
            text = (data.get(f"column_{name}") or "").strip()
            if not text:
                continue
            parts = [part.strip() for part in text.split("+") if part.strip()] if name == "external_id" else [text]
            columns[name] = parts if len(parts) > 1 else parts[0]
        defaults = {
            key: data[f"default_{key}"].strip().upper() if key == "currency" else data[f"default_{key}"].strip()
            for key in ("currency", "kind", "motion", "region", "product_line")
            if data.get(f"default_{key}", "").strip()
        }
        filters = []
        for number, line in enumerate(_lines(data.get("filters", "")), start=1):
            negated = "!=" in line
            column, separator, values = line.partition("!=" if negated else "=")
            if not separator or not column.strip() or not values.strip():
                self.add_error("filters", f"Line {number} is “{line}”: write it as Column = value | value (or !=).")
                continue
            filters.append({"column": column.strip(), "not_in" if negated else "in": [v.strip() for v in values.split("|") if v.strip()]})
        value_maps = {}
        for key, field_name, label in (("kind", "kind_map", "the kind values"), ("motion", "motion_map", "the motion values")):
            pairs = self._clean_pairs(field_name, label)
            if pairs:
                value_maps[key] = pairs
        formats = [part.strip() for part in (data.get("date_format") or "iso").split("|") if part.strip()]
        config: dict[str, Any] = {
            "columns": columns,
            "optional_columns": [part.strip() for part in data.get("optional_columns", "").split(",") if part.strip()],
            "defaults": defaults,
            "value_maps": value_maps,
            "product_aliases": self._clean_pairs("product_aliases", "the product aliases"),
            "application_lines": self._clean_pairs("application_lines", "the lines of new products"),
            "non_product_codes": _lines(data.get("non_product_codes", "")),
            "filters": filters,
            "date_format": formats if len(formats) > 1 else (formats[0] if formats else "iso"),
            "decimal_separator": data["decimal_separator"],
            "thousands_separator": data.get("thousands_separator", ""),
            "delimiter": data["delimiter"],
            "seller_separator": data.get("seller_separator") or ";",
            "seller_match": data["seller_match"],
            "seller_fallback_to_owner": bool(data.get("seller_fallback_to_owner")),
            "unknown_customers": data["unknown_customers"],
            "unknown_products": data["unknown_products"],
            "unknown_sellers": data["unknown_sellers"],
        }
        if data.get("source", "").strip():
            config["source"] = data["source"].strip()
        if data.get("sheet", "").strip():
            config["sheet"] = data["sheet"].strip()
        return config
