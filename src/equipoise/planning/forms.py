"""Forms of the planning pages: they only parse what people type into the units services take.

Amounts are typed in major units ("12,000,000") and become integer minor units through
:func:`equipoise.core.money.parse_amount`; percentages ("97.5") become basis points. Rules about
what is allowed (a horizon of 12–36 months, no negative targets, shares up to 100%) live in the
services: a form passes their :class:`ApplicationError` back onto the field it names.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms

from equipoise.core.errors import ApplicationError
from equipoise.core.money import Money, parse_amount
from equipoise.core.periods import parse_month
from equipoise.org.models import Customer, Motion, ProductApplication, ProductLine, Region
from equipoise.planning.models import PlanKind, PlanVersion, SeasonalityProfile

# Service error fields that are named differently on the forms.
_SERVICE_FIELD_TO_FORM_FIELD = {
    "growth_bp_per_month": "growth",
    "grr_objective_bp": "grr_objective",
    "nrr_objective_bp": "nrr_objective",
    "max_logo_churn_bp": "max_logo_churn",
    "total_target_minor": "total_target",
    "amount": "amount",
}


def parse_percent_bp(text: str, *, field: str) -> int | None:
    """ "97.5" or "97.5%" → 9750 basis points; blank → None. At most two decimals, like a basis point."""
    raw = text.strip().removesuffix("%").strip().replace(",", ".")
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation as error:
        raise ApplicationError(f"{text!r} is not a percentage: write a number such as 97.5.", field=field) from error
    if not value.is_finite():
        raise ApplicationError(f"{text!r} is not a percentage.", field=field)
    basis_points = value * 100
    if basis_points != basis_points.to_integral_value():
        raise ApplicationError(f"{text!r} has more than two decimals; write a percentage such as 97.55.", field=field)
    return int(basis_points)


def percent_text(basis_points: int | None) -> str:
    """The inverse of :func:`parse_percent_bp`, for initial values: 9750 → "97.5"."""
    if basis_points is None:
        return ""
    return f"{Decimal(basis_points) / 100:f}"  # exact division keeps no trailing zeros: 9700 → "97"


def amount_text(amount_minor: int, currency: str) -> str:
    """Minor units as a plain major-unit number to edit: 2083334 → "20833.34"."""
    return str(Money.from_minor(amount_minor, currency).amount)


def add_service_error(form: forms.Form, error: ApplicationError) -> None:
    """Show a service's error on the field it names, or above the form when no field matches."""
    field = _SERVICE_FIELD_TO_FORM_FIELD.get(error.field or "", error.field)
    form.add_error(field if field in form.fields else None, error.message)


class _ParsingForm(forms.Form):
    """Bootstrap-styled fields; clean_<field> methods turn the shared parsers' errors into field errors."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs["class"] = f"{field.widget.attrs.get('class', '')} {css}".strip()

    def _run(self, parse: Any) -> Any:
        try:
            return parse()
        except ApplicationError as error:
            raise forms.ValidationError(error.message) from error


def _text(label: str, *, required: bool = False, help_text: str = "", **attrs: Any) -> forms.CharField:
    return forms.CharField(label=label, required=required, help_text=help_text, widget=forms.TextInput(attrs=attrs))


class PlanHeaderFields(_ParsingForm):
    """The header fields a draft shares between creating and editing."""

    currency_for_amounts = "EUR"

    name = forms.CharField(label="Name", max_length=200, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    start_month = forms.CharField(
        label="First month",
        help_text="YYYY-MM, for example 2027-01.",
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "2027-01"}),
    )
    horizon_months = forms.IntegerField(
        label="Horizon (months)",
        help_text="From 12 to 36 months.",
        widget=forms.NumberInput(attrs={"min": 12, "max": 36, "step": 1}),
    )
    total_target = _text(
        "Total revenue target", required=True, help_text="In major units, for example 12,000,000.", inputmode="decimal", autocomplete="off"
    )
    grr_objective = _text("Gross revenue retention objective (%)", help_text="For example 92.", inputmode="decimal")
    nrr_objective = _text("Net revenue retention objective (%)", help_text="For example 110.", inputmode="decimal")
    max_logo_churn = _text("Maximum logo churn (%)", help_text="For example 8.", inputmode="decimal")
    seasonality = forms.ModelChoiceField(
        label="Seasonality profile",
        queryset=SeasonalityProfile.objects.order_by("name"),
        required=False,
        empty_label="Flat (every month alike)",
    )
    growth = _text("Monthly growth trend (%)", help_text="0.5 means +0.5% a month; leave blank for none.", inputmode="decimal")
    notes = forms.CharField(label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_start_month(self) -> Any:
        return self._run(lambda: parse_month(self.cleaned_data["start_month"], field="start_month"))

    def clean_total_target(self) -> int:
        text = self.cleaned_data["total_target"]
        return int(self._run(lambda: parse_amount(text, self.currency_for_amounts, field="total_target")))

    def clean_grr_objective(self) -> int | None:
        return self._percent("grr_objective")

    def clean_nrr_objective(self) -> int | None:
        return self._percent("nrr_objective")

    def clean_max_logo_churn(self) -> int | None:
        return self._percent("max_logo_churn")

    def clean_growth(self) -> int:
        return self._percent("growth") or 0

    def _percent(self, field: str) -> int | None:
        text = self.cleaned_data.get(field) or ""
        value: int | None = self._run(lambda: parse_percent_bp(text, field=field))
        return value

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "start_month": data["start_month"],
            "horizon_months": data["horizon_months"],
            "total_target_minor": data["total_target"],
            "grr_objective_bp": data["grr_objective"],
            "nrr_objective_bp": data["nrr_objective"],
            "max_logo_churn_bp": data["max_logo_churn"],
            "seasonality": data["seasonality"],
            "growth_bp_per_month": data["growth"],
            "notes": data["notes"],
        }


class PlanCreateForm(PlanHeaderFields):
    kind = forms.ChoiceField(label="Kind", choices=PlanKind.choices, initial=PlanKind.TOP_DOWN)
    currency = forms.CharField(
        label="Currency", min_length=3, max_length=3, help_text="ISO code, for example EUR.", widget=forms.TextInput(attrs={"size": 4})
    )

    field_order = ["name", "kind", "start_month", "horizon_months", "currency", "total_target"]

    def __init__(self, *args: Any, reporting_currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["currency"].initial = reporting_currency
        self.fields["horizon_months"].initial = 24
        # Amounts are parsed in the currency typed on the form, known before total_target is cleaned.
        self.currency_for_amounts = (
            (self.data.get("currency") or reporting_currency).strip().upper() if self.is_bound else reporting_currency
        )

    def clean_currency(self) -> str:
        return str(self.cleaned_data["currency"]).strip().upper()

    def service_arguments(self) -> dict[str, Any]:
        return {**super().service_arguments(), "kind": self.cleaned_data["kind"], "currency": self.cleaned_data["currency"]}


class PlanUpdateForm(PlanHeaderFields):
    reason = forms.CharField(label="Reason for the change", required=False, max_length=300, help_text="Kept in the plan's history.")

    def __init__(self, *args: Any, plan: PlanVersion, **kwargs: Any) -> None:
        self.plan = plan
        self.currency_for_amounts = plan.currency
        initial = {
            "name": plan.name,
            "start_month": f"{plan.start_month:%Y-%m}",
            "horizon_months": plan.horizon_months,
            "total_target": amount_text(plan.total_target_minor, plan.currency),
            "grr_objective": percent_text(plan.grr_objective_bp),
            "nrr_objective": percent_text(plan.nrr_objective_bp),
            "max_logo_churn": percent_text(plan.max_logo_churn_bp),
            "seasonality": plan.seasonality_id,
            "growth": percent_text(plan.growth_bp_per_month) if plan.growth_bp_per_month else "",
            "notes": plan.notes,
        }
        super().__init__(*args, initial=initial, **kwargs)
        self.fields["total_target"].help_text = f"In {plan.currency}, for example 12,000,000."

    def changes(self) -> dict[str, Any]:
        """Only the fields whose value differs from the plan's, so the audit reason lists what changed."""
        return {field: value for field, value in self.service_arguments().items() if getattr(self.plan, field) != value}


class _RegionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.parent.name} › {obj.name}" if obj.parent_id else str(obj.name)


class _ApplicationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.product_line.name} › {obj.name}"


class _TargetFields(_ParsingForm):
    target = _text("Target amount", help_text="The bucket's target over the whole horizon.", inputmode="decimal", autocomplete="off")
    target_share = _text("Share of the total (%)", help_text="Instead of an amount, for example 25.", inputmode="decimal")
    reason = forms.CharField(label="Reason", required=False, max_length=300, help_text="Kept in the plan's history.")

    def __init__(self, *args: Any, currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.fields["target"].label = f"Target amount ({currency})"

    def clean_target(self) -> int | None:
        text = (self.cleaned_data.get("target") or "").strip()
        if not text:
            return None
        return int(self._run(lambda: parse_amount(text, self.currency, field="target")))

    def clean_target_share(self) -> int | None:
        text = self.cleaned_data.get("target_share") or ""
        value: int | None = self._run(lambda: parse_percent_bp(text, field="target_share"))
        return value


class BucketAddForm(_TargetFields):
    # Querysets are evaluated per form, so new regions or named accounts show without a restart.
    region = _RegionChoiceField(
        label="Region or country",
        queryset=Region.objects.select_related("parent").order_by("code"),
        required=False,
        empty_label="All regions",
    )
    product_line = forms.ModelChoiceField(
        label="Product line", queryset=ProductLine.objects.order_by("name"), required=False, empty_label="All product lines"
    )
    product_application = _ApplicationChoiceField(
        label="Product application",
        queryset=ProductApplication.objects.select_related("product_line").order_by("product_line__name", "name"),
        required=False,
        empty_label="All applications",
    )
    # Only named accounts get a bucket of their own; everyone else is "all other customers".
    customer = forms.ModelChoiceField(
        label="Named customer",
        queryset=Customer.objects.filter(is_named_account=True).order_by("name"),
        required=False,
        empty_label="All other customers",
    )
    motion = forms.ChoiceField(label="Motion", choices=[("", "All motions"), *Motion.choices], required=False)

    field_order = ["region", "product_line", "product_application", "customer", "motion", "target", "target_share", "reason"]


class BucketTargetForm(_TargetFields):
    pass


class CellForm(_ParsingForm):
    amount = forms.CharField(required=False)

    def __init__(self, *args: Any, currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency

    def clean_amount(self) -> int:
        text = self.cleaned_data.get("amount") or ""
        if not text.strip():
            raise forms.ValidationError(f"Enter an amount in {self.currency}, or press Escape to cancel.")
        return int(self._run(lambda: parse_amount(text, self.currency, field="amount")))


class PlanActionForm(forms.Form):
    """Approve, archive, re-phase and revise take an optional reason (and, for revise, a name)."""

    reason = forms.CharField(required=False, max_length=300)
    name = forms.CharField(required=False, max_length=200)
