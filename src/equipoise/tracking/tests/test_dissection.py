"""Where drills go and how URL parameters read: the drill order, period drills, parsing."""

from datetime import date

import pytest

from equipoise.core.errors import ApplicationError
from equipoise.tracking import dissection, domain
from equipoise.tracking.dissection import Dissection
from equipoise.tracking.domain import Grain


@pytest.mark.parametrize(
    ("filtered", "has_reports", "after", "expected"),
    [
        ((), True, None, "region"),
        (("region",), True, "region", "org"),  # company → region → teams
        (("region",), False, "org", "customer"),  # → a seller → customers
        (("region", "customer"), False, "customer", "motion"),
        (("region", "customer", "motion"), False, "motion", "product_line"),
        (("region", "customer", "motion", "product_line"), False, "product_line", "product_application"),
        (("region", "customer", "motion", "product_line", "product_application"), False, "product_application", None),
        (("motion",), True, "motion", "product_line"),  # continues from the dimension drilled, then wraps
        (("motion", "product_line", "product_application"), False, "product_application", "region"),
    ],
)
def test_next_rows_follow_the_drill_order(filtered, has_reports, after, expected):
    assert dissection.next_rows(filtered=filtered, has_reports=has_reports, after=after) == expected


@pytest.mark.parametrize(
    ("grain", "start", "end", "finer"),
    [
        (Grain.HORIZON, date(2027, 1, 1), date(2028, 12, 31), Grain.YEAR),
        (Grain.YEAR, date(2027, 1, 1), date(2027, 12, 31), Grain.QUARTER),
        (Grain.QUARTER, date(2027, 1, 1), date(2027, 3, 31), Grain.MONTH),
        (Grain.MONTH, date(2027, 1, 1), date(2027, 1, 31), Grain.WEEK),
        (Grain.WEEK, date(2027, 1, 4), date(2027, 1, 10), Grain.DAY),
    ],
)
def test_a_period_drills_one_grain_finer_over_itself(grain, start, end, finer):
    view = Dissection(scope="company", rows="region", grain=grain)
    column = domain.Period(start=start, end=end, grain=grain, label="")

    drilled = dissection.drill_period(view, column)

    assert drilled is not None
    assert (drilled.grain, drilled.start, drilled.end, drilled.scope, drilled.rows) == (finer, start, end, "company", "region")
    assert dissection.drill_period(view, domain.Period(start=start, end=start, grain=Grain.DAY, label="")) is None


def test_parse_dissection_reads_the_url_and_round_trips():
    view = dissection.parse_dissection(
        {"scope": "team:7", "rows": "customer", "grain": "week", "from": "2027-01", "to": "2027-02", "region": "3", "motion": "new"}
    )

    assert view == Dissection(
        scope="team:7",
        rows="customer",
        grain=Grain.WEEK,
        start=date(2027, 1, 1),
        end=date(2027, 2, 28),
        filters=(("region", 3), ("motion", "new")),
    )
    assert dissection.parse_dissection(view.params()) == view


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"rows": "planet"}, "rows", "is not a row dimension"),
        ({"grain": "fortnight"}, "grain", "is not a grain"),
        ({"from": "2027-02-30"}, "from", "is not a date"),
        ({"to": "yesterday"}, "to", "is not a date"),
        ({"region": "north"}, "region", "is not an id"),
        ({"customer": "-1"}, "customer", "is not an id"),
        ({"show": "everything"}, "show", "is not a figure to show"),
        ({"empty": "maybe"}, "empty", "is not a choice for empty rows"),
        ({"from": "2027-02-01", "to": "2027-01-31"}, "to", r"ends \(31 Jan 2027\) before it starts \(1 Feb 2027\)"),
    ],
)
def test_parse_dissection_refuses_malformed_parameters(params, field, message):
    with pytest.raises(ApplicationError, match=message) as error:
        dissection.parse_dissection(params)
    assert error.value.field == field


def test_showing_empty_rows_round_trips_and_is_left_out_of_the_url_by_default():
    shown = dissection.parse_dissection({"rows": "org", "empty": "show"})

    assert shown.show_empty_rows is True
    assert shown.params()["empty"] == "show"
    assert dissection.parse_dissection(shown.params()) == shown
    assert "empty" not in dissection.parse_dissection({"rows": "org", "empty": "hide"}).params()


def test_the_form_keeps_offered_choices_and_falls_back_to_the_defaults():
    values = dissection.form_values(
        {"rows": "org", "grain": "fortnight", "from": "garbage", "show": "plan"},
        defaults={"scope": "seller:5", "rows": "customer", "grain": "month", "measure": "booked", "show": "actual"},
        choices={
            "scope": ["seller:5"],
            "rows": ["customer", "motion"],
            "grain": ["day", "month"],
            "measure": ["booked"],
            "show": ["actual", "plan"],
        },
    )

    assert values == {
        "scope": "seller:5",
        "rows": "customer",
        "grain": "month",
        "from": "garbage",
        "to": "",
        "measure": "booked",
        "show": "plan",
    }
