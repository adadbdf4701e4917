"""The built-in mappings. They are code: created (and kept up to date) on demand as read-only
``ColumnMapping`` rows with ``is_preset=True``; copy one to change it.

``equipoise`` — the generic Equipoise format, one row per result line:

=======================  ========  ==================================================================
column                   required  content
=======================  ========  ==================================================================
``external_id``          yes       the line's id in your system (unique per source)
``date``                 yes       ``YYYY-MM-DD``
``amount``               yes       major units, ``.`` as decimal separator, no thousands separator
                                   (``1234.50``); negative for credit notes and cancellations
``customer_code``        yes       an existing customer's code
``product_line``         yes       a product line's code or name
``sellers``              yes       one or more sellers (e-mail, user name or full name) separated by ``;``
``shares``               no        their shares in percent, separated by ``;`` (``60;40``); equal when blank
``kind``                 no        booking (default), invoice, credit_note, renewal, churn
``currency``             no        ISO code; the company's currency when blank
``customer_name``        no        informative
``product_application``  no        a product application's code or name (within the product line)
``region``               no        a region's code or name; the customer's home region when blank
``motion``               no        new (default), renewal, expansion
=======================  ========  ==================================================================

``salesforce-opportunities`` — a Salesforce opportunities report exported as CSV ("Details only"):
Opportunity ID, Account Name, Opportunity Owner, Amount, Close Date (``M/D/YYYY`` or ISO), Stage
(only ``Closed Won`` rows are results), Type (New Business → new, Existing Business → expansion,
Renewal → renewal), optional Product Name / Product Family / Opportunity Currency.

``hubspot-deals`` — a HubSpot deals export: Record ID, Associated Company, Deal owner, Amount, Close
Date, Deal Stage (only ``closedwon`` / ``Closed Won``), Deal Type (newbusiness → new,
existingbusiness → expansion), optional Product / Product Line / Currency.

``crm-opportunities`` — the "CRM Sales Opportunities" layout (``sales_pipeline.csv``): only ``Won``
deals are bookings; products by their products.csv names (``GTXPro`` is ``GTX Pro``), in series
GTX, MG and GTK; sellers by the sales agent's full name; customers by account name; amounts in USD.

Every preset rejects unknown customers, products and sellers: copy it and switch them to "create"
(with a default region for new customers) to load a file into an empty organisation.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from equipoise.results.models import ColumnMapping

SALESFORCE_MOTIONS = {
    "New Business": "new",
    "New Customer": "new",
    "Existing Business": "expansion",
    "Existing Customer - Upgrade": "expansion",
    "Existing Customer - Replacement": "expansion",
    "Existing Customer - Downgrade": "expansion",
    "Renewal": "renewal",
}

PRESETS: dict[str, dict[str, Any]] = {
    "equipoise": {
        "description": "The generic Equipoise format: one row per result line, ISO dates, amounts with a decimal point.",
        "config": {
            "source": "file",
            "columns": {
                "external_id": "external_id",
                "date": "date",
                "amount": "amount",
                "currency": "currency",
                "kind": "kind",
                "customer_code": "customer_code",
                "customer_name": "customer_name",
                "product_line": "product_line",
                "product_application": "product_application",
                "region": "region",
                "sellers": "sellers",
                "shares": "shares",
                "motion": "motion",
            },
            "optional_columns": ["currency", "kind", "customer_name", "product_application", "region", "shares", "motion"],
            "defaults": {"kind": "booking", "motion": "new"},
            "date_format": "iso",
            "seller_match": "auto",
        },
    },
    "salesforce-opportunities": {
        "description": "A Salesforce opportunities report (CSV export): Closed Won opportunities are bookings.",
        "config": {
            "source": "salesforce",
            "columns": {
                "external_id": "Opportunity ID",
                "date": "Close Date",
                "amount": "Amount",
                "currency": "Opportunity Currency",
                "customer_name": "Account Name",
                "seller": "Opportunity Owner",
                "motion": "Type",
                "product_application": "Product Name",
                "product_line": "Product Family",
            },
            "optional_columns": ["Opportunity Currency", "Type", "Product Name", "Product Family"],
            "filters": [{"column": "Stage", "in": ["Closed Won"]}],
            "defaults": {"kind": "booking", "motion": "new"},
            "value_maps": {"motion": SALESFORCE_MOTIONS},
            "date_format": ["%m/%d/%Y", "iso"],
            "thousands_separator": ",",
            "seller_match": "name",
        },
    },
    "hubspot-deals": {
        "description": "A HubSpot deals export: closed-won deals are bookings.",
        "config": {
            "source": "hubspot",
            "columns": {
                "external_id": "Record ID",
                "date": "Close Date",
                "amount": "Amount",
                "currency": "Currency",
                "customer_name": "Associated Company",
                "seller": "Deal owner",
                "motion": "Deal Type",
                "product_application": "Product",
                "product_line": "Product Line",
            },
            "optional_columns": ["Currency", "Deal Type", "Product", "Product Line"],
            "filters": [{"column": "Deal Stage", "in": ["closedwon", "Closed Won"]}],
            "defaults": {"kind": "booking", "motion": "new"},
            "value_maps": {
                "motion": {"newbusiness": "new", "New Business": "new", "existingbusiness": "expansion", "Existing Business": "expansion"}
            },
            "date_format": ["iso", "%m/%d/%Y"],
            "thousands_separator": ",",
            "seller_match": "name",
        },
    },
    "crm-opportunities": {
        "description": "The CRM Sales Opportunities layout (sales_pipeline.csv): Won deals are bookings, in USD.",
        "config": {
            "source": "crm-opportunities",
            "columns": {
                "external_id": "opportunity_id",
                "date": "close_date",
                "amount": "close_value",
                "customer_name": "account",
                "product_application": "product",
                "seller": "sales_agent",
            },
            "filters": [{"column": "deal_stage", "in": ["Won"]}],
            "defaults": {"kind": "booking", "motion": "new", "currency": "USD"},
            "product_aliases": {"GTXPro": "GTX Pro"},
            "application_lines": {
                "GTX Basic": "GTX",
                "GTX Pro": "GTX",
                "GTX Plus Basic": "GTX",
                "GTX Plus Pro": "GTX",
                "MG Special": "MG",
                "MG Advanced": "MG",
                "GTK 500": "GTK",
            },
            "date_format": "iso",
            "seller_match": "name",
        },
    },
}


@transaction.atomic
def presets_ensure() -> None:
    """Create the built-in mappings, or bring them up to date with the code. A custom mapping that
    took a preset's name is left alone (names are unique)."""
    existing = {mapping.name: mapping for mapping in ColumnMapping.objects.filter(name__in=PRESETS)}
    for name, preset in PRESETS.items():
        mapping = existing.get(name)
        if mapping is None:
            ColumnMapping.objects.create(name=name, description=preset["description"], is_preset=True, config=preset["config"])
        elif mapping.is_preset and (mapping.config != preset["config"] or mapping.description != preset["description"]):
            mapping.config, mapping.description = preset["config"], preset["description"]
            mapping.save(update_fields=["config", "description", "updated_at"])
