"""Input parsing for the quota pages: filters, allocation settings, hand adjustments, the commit grid.

Forms only turn text into typed values (months, basis points, minor units, ids chosen from lists
the view built from selectors). Business rules — which plan may be allocated, cushion and ramp
bounds, whether a commit may be negative — stay in the services, whose errors the views attach
to the field they name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms

from equipoise.core.errors import ApplicationError
from equipoise.core.forms import StyledForm
from equipoise.core.money import Money, parse_amount
from equipoise.core.periods import add_months, fiscal_year_of, month_start, months_between, parse_month
from equipoise.org.models import Motion, Person
from equipoise.planning.models import PlanBucket, PlanVersion
from equipoise.quotas.models import AllocationMethod

_LIST_SEPARATORS = re.compile(r"[,;/\s]+")


def parse_percent_list(text: str, *, item_label: str) -> list[int]:
    """Percentages to basis points: "0, 5" → [0, 500]; "25/50/75%" → [2500, 5000, 7500].

    Ranges are the service's to judge (it names the offending level or month); here only what is
    not a number, or is finer than a basis point, is refused.
    """
    items = [item for item in _LIST_SEPARATORS.split(text.strip()) if item]
    result = []
    for position, item in enumerate(items, start=1):
        raw = item.removesuffix("%")
        try:
            value = Decimal(raw)
        except InvalidOperation:
            value = Decimal("NaN")
        if not value.is_finite():
            raise forms.ValidationError(f"{item_label} {position} is “{item}”, not a percentage: write numbers such as 0, 5 or 2.5.")
        basis_points = value * 100
        if basis_points != basis_points.to_integral_value():
            raise forms.ValidationError(f"{item_label} {position} is {item}: use at most two decimals, such as 2.25.")
        result.append(int(basis_points))
    return result


def percent_list_text(basis_points: Iterable[int]) -> str:
    """[0, 500] → "0, 5": the inverse of :func:`parse_percent_list`, for showing saved settings."""
    return ", ".join(f"{Decimal(value) / 100:g}" for value in basis_points)


def default_period(horizon: Sequence[date], today: date, fiscal_year_start_month: int) -> tuple[date, date]:
    """The fiscal quarter containing ``today`` (clipped to the horizon) if today falls inside the
    plan horizon, otherwise the plan's first three months."""
    first, last = horizon[0], horizon[-1]
    this_month = month_start(today)
    if first <= this_month <= last:
        fiscal_year = fiscal_year_of(this_month, fiscal_year_start_month)
        quarter_start = add_months(fiscal_year.start, months_between(fiscal_year.start, this_month) // 3 * 3)
        return max(quarter_start, first), min(add_months(quarter_start, 2), last)
    return first, min(add_months(first, 2), last)


def _id_choices(label: str, options: Iterable[tuple[int, str]]) -> list[tuple[str, str]]:
    return [("", label), *((str(pk), text) for pk, text in options)]


def person_option_label(person: Person, root_depth: int) -> str:
    return "\u2003" * max(person.depth - root_depth, 0) + person.label


class PeriodForm(StyledForm):
    """A period of plan months, ``from``/``to`` as YYYY-MM, inside the plan horizon."""

    def __init__(self, data: Mapping[str, Any] | None, *, horizon: Sequence[date], default: tuple[date, date], **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.horizon = list(horizon)
        self.default = default
        # A field copies its widget, so one instance serves both.
        month_widget = forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM", "pattern": r"\d{4}-\d{2}"})
        self.fields["from"] = forms.CharField(label="From", required=False, widget=month_widget)
        self.fields["to"] = forms.CharField(label="To", required=False, widget=month_widget)
        self.style()

    def _month(self, name: str) -> date | None:
        text = (self.cleaned_data.get(name) or "").strip()
        if not text:
            return None
        try:
            month = parse_month(text, field=name)
        except ApplicationError as error:
            self.add_error(name, error.message)
            return None
        first, last = self.horizon[0], self.horizon[-1]
        if not first <= month <= last:
            self.add_error(name, f"{month:%b %Y} is outside the plan's horizon, {first:%b %Y} to {last:%b %Y}: choose a month inside it.")
            return None
        return month

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = self._month("from"), self._month("to")
        if "from" in self.errors or "to" in self.errors:
            return cleaned
        first, last = self.horizon[0], self.horizon[-1]
        if start is None and end is None:
            start, end = self.default
        elif end is None:
            assert start is not None
            end = min(add_months(start, 2), last)
        elif start is None:
            start = max(add_months(end, -2), first)
        if end < start:
            self.add_error("to", f"The period ends ({end:%b %Y}) before it starts ({start:%b %Y}): choose a later “to” month.")
            return cleaned
        cleaned["period"] = (start, end)
        # Show the period in effect (defaults filled in) when the form is rendered again.
        self.data = {**dict(self.data.items()), "from": f"{start:%Y-%m}", "to": f"{end:%Y-%m}"}
        return cleaned

    @property
    def period(self) -> tuple[date, date]:
        """The valid period asked for, or the default one when the input was missing or wrong."""
        if not self.is_bound:
            return self.default
        self.is_valid()  # validates once; later calls reuse the result
        period: tuple[date, date] = self.cleaned_data.get("period", self.default)
        return period

    @property
    def months(self) -> list[date]:
        start, end = self.period
        return [month for month in self.horizon if start <= month <= end]

    def valid_value(self, name: str) -> Any:
        """A field's cleaned value if it was valid, else None: bad input in one filter leaves the others working."""
        if not self.is_bound or name in self.errors:  # .errors validates the form once
            return None
        return self.cleaned_data.get(name) or None


class _IdChoiceField(forms.TypedChoiceField):
    def __init__(self, *, label: str, empty_label: str, options: Iterable[tuple[int, str]]) -> None:
        super().__init__(label=label, required=False, coerce=int, empty_value=None, choices=_id_choices(empty_label, options))


class QuotaTableFilterForm(PeriodForm):
    """Filters of the quota table: team, seller, period, bucket. Choices are what the user may see."""

    def __init__(
        self,
        data: Mapping[str, Any] | None,
        *,
        horizon: Sequence[date],
        default: tuple[date, date],
        teams: Sequence[Person],
        sellers: Sequence[Person],
        buckets: Sequence[PlanBucket],
    ) -> None:
        super().__init__(data, horizon=horizon, default=default)
        root_depth = min((team.depth for team in teams), default=0)
        self.teams = {team.pk: team for team in teams}
        self.sellers = {seller.pk: seller for seller in sellers}
        self.buckets = {bucket.pk: bucket for bucket in buckets}
        self.fields["team"] = _IdChoiceField(
            label="Team", empty_label="All teams", options=((t.pk, person_option_label(t, root_depth)) for t in teams)
        )
        self.fields["seller"] = _IdChoiceField(label="Seller", empty_label="All sellers", options=((s.pk, s.full_name) for s in sellers))
        self.fields["bucket"] = _IdChoiceField(label="Bucket", empty_label="All buckets", options=((b.pk, b.label) for b in buckets))
        self.style()

    @property
    def selected_team(self) -> Person | None:
        pk = self.valid_value("team")
        return self.teams.get(pk) if pk is not None else None

    @property
    def selected_seller(self) -> Person | None:
        pk = self.valid_value("seller")
        return self.sellers.get(pk) if pk is not None else None

    @property
    def selected_bucket(self) -> PlanBucket | None:
        pk = self.valid_value("bucket")
        return self.buckets.get(pk) if pk is not None else None


class GapFilterForm(PeriodForm):
    """Filters of the commit gap: team, period, motion."""

    def __init__(
        self, data: Mapping[str, Any] | None, *, horizon: Sequence[date], default: tuple[date, date], teams: Sequence[Person]
    ) -> None:
        super().__init__(data, horizon=horizon, default=default)
        root_depth = min((team.depth for team in teams), default=0)
        self.teams = {team.pk: team for team in teams}
        self.fields["team"] = _IdChoiceField(
            label="Team", empty_label="All teams", options=((t.pk, person_option_label(t, root_depth)) for t in teams)
        )
        self.fields["motion"] = forms.ChoiceField(label="Motion", required=False, choices=[("", "All motions"), *Motion.choices])
        self.style()

    @property
    def selected_team(self) -> Person | None:
        pk = self.valid_value("team")
        return self.teams.get(pk) if pk is not None else None

    @property
    def selected_motion(self) -> str:
        return str(self.valid_value("motion") or "")


class AllocateForm(StyledForm):
    """Which approved plan to allocate, how, and with what cushion and ramp."""

    plan = forms.IntegerField(label="Plan", widget=forms.Select)
    method = forms.ChoiceField(
        label="Method",
        choices=AllocationMethod.choices,
        initial=AllocationMethod.EQUAL,
        help_text="Equal split among the sellers whose territory covers a bucket, their share of its history, "
        "or their territory potential.",
    )
    cushion = forms.CharField(
        label="Cushion per level (%)",
        required=False,
        help_text="Over-assignment each level adds when splitting among its reports, top first: “0, 5” means the head of sales "
        "passes the plan on as is and managers hand their sellers 5% more. Blank for none.",
    )
    ramp = forms.CharField(
        label="Ramp for new hires (%)",
        required=False,
        help_text="Share of full quota in a new seller's first months from the hire month: “25, 50, 75” means 25%, 50%, 75%, "
        "then 100%. Blank for none.",
    )
    reason = forms.CharField(label="Note for the audit history", required=False, max_length=500)

    def __init__(self, data: Mapping[str, Any] | None = None, *, plans: Sequence[PlanVersion], **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        widget = self.fields["plan"].widget
        assert isinstance(widget, forms.Select)
        widget.choices = [(plan.pk, f"{plan.name} — {plan.get_kind_display()}, from {plan.start_month:%b %Y}") for plan in plans]
        self.style()

    def clean_cushion(self) -> list[int]:
        return parse_percent_list(self.cleaned_data.get("cushion") or "", item_label="Level")

    def clean_ramp(self) -> list[int]:
        return parse_percent_list(self.cleaned_data.get("ramp") or "", item_label="Ramp month")


class LockForm(StyledForm):
    reason = forms.CharField(label="Note for the audit history", required=False, max_length=500)

    def __init__(self, data: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.style()


class AdjustForm(StyledForm):
    """One month's quota for one bucket, set by hand, with the reason."""

    bucket = forms.TypedChoiceField(label="Bucket", coerce=int)
    month = forms.ChoiceField(label="Month")
    amount = forms.CharField(label="New quota", widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "text-end"}))
    # Not required here: the service owns the rule and says why a reason is needed.
    reason = forms.CharField(label="Reason", required=False, widget=forms.Textarea(attrs={"rows": 2, "required": True}))

    def __init__(
        self, data: Mapping[str, Any] | None = None, *, buckets: Sequence[PlanBucket], months: Sequence[date], currency: str, **kwargs: Any
    ) -> None:
        super().__init__(data, **kwargs)
        self.currency = currency
        self.buckets = {bucket.pk: bucket for bucket in buckets}
        self.month_values = {f"{month:%Y-%m}": month for month in months}
        bucket_field = self.fields["bucket"]
        month_field = self.fields["month"]
        assert isinstance(bucket_field, forms.TypedChoiceField) and isinstance(month_field, forms.ChoiceField)
        bucket_field.choices = [(bucket.pk, bucket.label) for bucket in buckets]
        month_field.choices = [(value, f"{month:%b %Y}") for value, month in self.month_values.items()]
        self.fields["amount"].label = f"New quota ({currency})"
        self.style()

    def clean_amount(self) -> int:
        try:
            return parse_amount(self.cleaned_data.get("amount") or "", self.currency)
        except ApplicationError as error:
            raise forms.ValidationError(error.message) from error

    @property
    def selected_bucket(self) -> PlanBucket:
        return self.buckets[self.cleaned_data["bucket"]]

    @property
    def selected_month(self) -> date:
        return self.month_values[self.cleaned_data["month"]]


@dataclass
class CommitCell:
    """One input of the commit grid: a month and motion, what is saved, what was typed, the quota beside it."""

    month: date
    motion: str
    motion_label: str
    saved_minor: int | None
    quota_minor: int | None
    text: str = ""
    amount_minor: int | None = None
    error: str = ""

    @property
    def name(self) -> str:
        return f"commit-{self.month:%Y-%m}-{self.motion}"

    @property
    def label(self) -> str:
        return f"{self.month:%b %Y} · {self.motion_label}"

    @property
    def changed(self) -> bool:
        return self.amount_minor is not None and self.amount_minor != self.saved_minor


@dataclass(frozen=True)
class MotionTotal:
    """One motion's footer of the commit grid, in minor units."""

    commit_minor: int
    committed_months: int
    quota_committed_minor: int | None
    quota_horizon_minor: int | None


@dataclass
class CommitGrid:
    """Months × motions of commit inputs for one person, prefilled with their saved commits.

    A blank input means "no commit"; blanking a saved commit sets it to zero, since a commit is a
    number the person stands behind, never silently dropped.
    """

    currency: str
    months: list[date]
    motions: list[tuple[str, str]]
    rows: list[list[CommitCell]] = field(default_factory=list)

    @classmethod
    def build(
        cls,
        *,
        currency: str,
        months: Sequence[date],
        saved: Mapping[tuple[date, str], int],
        quota_by_motion: Mapping[str, Sequence[int]] | None,
    ) -> CommitGrid:
        motions = list(Motion.choices)
        grid = cls(currency=currency, months=list(months), motions=motions)
        for position, month in enumerate(months):
            row = []
            for motion, motion_label in motions:
                quotas = quota_by_motion.get(motion) if quota_by_motion is not None else None
                saved_minor = saved.get((month, motion))
                cell = CommitCell(
                    month=month,
                    motion=motion,
                    motion_label=motion_label,
                    saved_minor=saved_minor,
                    quota_minor=quotas[position] if quotas is not None else (0 if quota_by_motion is not None else None),
                )
                if saved_minor is not None:
                    cell.text = format(Money.from_minor(saved_minor, currency).amount, "f")
                row.append(cell)
            grid.rows.append(row)
        return grid

    @property
    def cells(self) -> list[CommitCell]:
        return [cell for row in self.rows for cell in row]

    def bind(self, data: Mapping[str, Any]) -> None:
        """Read every cell from the posted data; a cell that does not parse gets an error naming it."""
        for cell in self.cells:
            if cell.name not in data:
                continue  # not posted: leave the saved value alone
            cell.text = str(data.get(cell.name) or "").strip()
            if not cell.text:
                cell.amount_minor = 0 if cell.saved_minor is not None else None
                continue
            try:
                cell.amount_minor = parse_amount(cell.text, self.currency, field=cell.name)
            except ApplicationError as error:
                cell.error = error.message

    @property
    def changed_cells(self) -> list[CommitCell]:
        return [cell for cell in self.cells if cell.changed]

    @property
    def errors(self) -> list[CommitCell]:
        return [cell for cell in self.cells if cell.error]

    @property
    def motion_totals(self) -> list[MotionTotal]:
        """Per motion: saved commits, the quota of the same months, and the quota over the horizon.

        Commits are usually entered a few months ahead, not for the whole horizon: set against the
        horizon's quota they would show a gap that is only months nobody has committed yet. So the
        quota beside the commit total covers exactly the months with a saved commit. Quotas are
        None without an allocation.
        """
        totals = []
        for position in range(len(self.motions)):
            column = [row[position] for row in self.rows]
            has_quota = all(cell.quota_minor is not None for cell in column)
            committed = [cell for cell in column if cell.saved_minor is not None]
            totals.append(
                MotionTotal(
                    commit_minor=sum(cell.saved_minor or 0 for cell in committed),
                    committed_months=len(committed),
                    quota_committed_minor=sum(cell.quota_minor or 0 for cell in committed) if has_quota else None,
                    quota_horizon_minor=sum(cell.quota_minor or 0 for cell in column) if has_quota else None,
                )
            )
        return totals
