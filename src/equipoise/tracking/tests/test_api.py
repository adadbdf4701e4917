"""GET /api/v1/tracking: the dissection table as JSON, scoped like the page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from equipoise.org.models import Customer
from equipoise.tracking.tests.test_selectors import _more_results

JANUARY = {"from": "2027-01-01", "to": "2027-01-31"}


@pytest.fixture(autouse=True)
def frozen_today(time_machine):
    time_machine.move_to("2027-03-15 09:00")


def test_the_executive_gets_the_table_in_minor_units_with_the_currency(data, call):
    response = call(data.org.executive, "get", "/api/v1/tracking", {"rows": "region", **JANUARY})

    assert response.status_code == 200
    body = response.json()
    north = data.org.north.pk
    assert body == {
        "scope": "company",
        "scope_label": "Company",
        "rows_dimension": "region",
        "grain": "month",
        "from": "2027-01-01",
        "to": "2027-01-31",
        "measure": "booked",
        "currency": "EUR",
        "as_of": "2027-03-15",
        "filters": {},
        "plan_source": "Plan: the approved top-down plan “FY27-28 plan”.",
        "plan_note": "",
        "other_currencies": ["USD"],
        "periods": [{"key": "2027-01-01", "label": "Jan 2027", "start": "2027-01-01", "end": "2027-01-31", "partial": False}],
        "rows": [
            {
                "key": str(north),
                "label": "North",
                "kind": "row",
                "drill": {
                    "scope": "company",
                    "rows": "org",
                    "grain": "month",
                    "from": "2027-01-01",
                    "to": "2027-01-31",
                    "measure": "booked",
                    "region": str(north),
                    "empty": "show",  # the API's default, carried into the drill
                },
                "cells": [_figures(3_333_334, 155_000)],
                "total": _figures(3_333_334, 155_000),
            },
            {
                "key": str(data.org.south.pk),
                "label": "South",
                "kind": "row",
                "drill": {
                    "scope": "company",
                    "rows": "org",
                    "grain": "month",
                    "from": "2027-01-01",
                    "to": "2027-01-31",
                    "measure": "booked",
                    "region": str(data.org.south.pk),
                    "empty": "show",  # the API's default, carried into the drill
                },
                "cells": [_figures(1_666_667, 0)],
                "total": _figures(1_666_667, 0),
            },
        ],
        "hidden_rows": 0,  # South has a plan in January, if no result
        "totals": {
            "key": "total",
            "label": "Total",
            "kind": "total",
            "drill": None,
            "cells": [_figures(5_000_001, 155_000)],
            "total": _figures(5_000_001, 155_000),
        },
    }


def _figures(plan, actual):
    from decimal import Decimal

    ratio = str((Decimal(actual) / Decimal(plan)).quantize(Decimal("0.000001")))
    return {
        "plan_minor": plan,
        "actual_minor": actual,
        "variance_minor": actual - plan,
        "attainment": ratio,
        "pace": ratio,  # January is over: pace is attainment
        "projection_minor": actual,
    }


def test_the_seller_gets_their_own_table_by_default(data, call):
    response = call(data.org.seller, "get", "/api/v1/tracking", {"rows": "motion", **JANUARY})

    body = response.json()
    assert body["scope"] == f"seller:{data.org.sam.pk}"
    assert body["totals"]["total"]["actual_minor"] == 100_000
    assert [row["key"] for row in body["rows"]] == ["new", "renewal"]


@pytest.mark.parametrize("scope", ["seller:{olga}", "seller:{sara}", "team:{maria}", "company", "customer:{initech}"])
def test_the_seller_cannot_reach_anyone_elses_figures(data, call, scope):
    org = data.org
    initech = Customer.objects.create(code="INITECH", name="Initech", home_region=org.south, owner=org.olga)
    text = scope.format(olga=org.olga.pk, sara=org.sara.pk, maria=org.maria.pk, initech=initech.pk)

    response = call(org.seller, "get", "/api/v1/tracking", {"scope": text})

    assert response.status_code == 404
    assert response.json()["error"].endswith("was not found.")


def test_a_manager_reaches_their_subtree_only(data, call):
    org = data.org

    own = call(org.manager, "get", "/api/v1/tracking", {"scope": f"seller:{org.sara.pk}", **JANUARY})
    other = call(org.manager, "get", "/api/v1/tracking", {"scope": f"team:{org.omar.pk}"})

    assert own.status_code == 200
    assert own.json()["totals"]["total"]["actual_minor"] == 50_000
    assert other.status_code == 404


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"grain": "fortnight"}, "grain"),
        ({"from": "2027-02-30"}, "from"),
        ({"rows": "planet"}, "rows"),
        ({"scope": "planet:1"}, "scope"),
        ({"measure": "profit"}, "measure"),
        ({"grain": "day", "from": "2027-01-01", "to": "2027-12-31"}, "grain"),
    ],
)
def test_bad_parameters_answer_400_naming_the_field(data, call, params, field):
    response = call(data.org.executive, "get", "/api/v1/tracking", params)

    assert response.status_code == 400
    assert response.json()["field"] == field


def test_credentials_are_required(data, call):
    assert call(None, "get", "/api/v1/tracking", {}).status_code == 401


def test_the_api_costs_the_same_whatever_the_number_of_results(data, client, bearer):
    headers = bearer(data.org.manager)

    def count():
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/api/v1/tracking", {"rows": "customer"}, **headers).status_code == 200
        return len(captured.captured_queries)

    count()  # the first use of a token records when it was used
    before = count()
    _more_results(data.org, data.catalog, 600)

    assert count() == before
