"""Template helpers for tracking tables: drill links, cells, ratios."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.safestring import SafeString

from equipoise.tracking.dissection import Dissection
from equipoise.tracking.domain import Figures
from equipoise.web.templatetags.equipoise import money, variance

register = template.Library()

TARGET = "#tracking-results"


@register.filter
def query(view: Dissection) -> str:
    return urlencode(view.params())


@register.simple_tag
def drill_attrs(view: Dissection) -> SafeString:
    """``href`` to the page (works without JavaScript) and ``hx-get`` of the partial for the same view."""
    params = urlencode(view.params())
    return format_html(
        'href="{}?{}" hx-get="{}?{}" hx-target="{}" hx-swap="innerHTML" hx-indicator="{}"',
        reverse("tracking:dissect"),
        params,
        reverse("tracking:table"),
        params,
        TARGET,
        TARGET,
    )


@register.filter
def percent(ratio: Decimal | None) -> str:
    """1.0512 → "105.1%"; None → "—"."""
    if ratio is None:
        return "—"
    return f"{ratio * 100:.1f}%".replace("-", "−")


@register.simple_tag
def figure(figures: Figures, show: str, currency: str) -> SafeString | str:
    """The one figure a period cell shows."""
    if show == "plan":
        return _amount(figures.plan_minor, currency)
    if show == "variance":
        if figures.variance_minor is None:
            return "—"
        return variance(figures.variance_minor, currency)
    if show == "attainment":
        return percent(figures.attainment)
    if show == "pace":
        return percent(figures.pace)
    return _amount(figures.actual_minor, currency)


def _amount(amount_minor: int | None, currency: str) -> SafeString | str:
    """An amount; zero is muted, so that in a customer's row of months the ones with sales stand out."""
    if amount_minor == 0:
        return format_html('<span class="figure-zero">{}</span>', money(0, currency))
    return money(amount_minor, currency)


@register.simple_tag
def variance_or_dash(amount_minor: int | None, currency: str) -> SafeString | str:
    if amount_minor is None:
        return "—"
    return variance(amount_minor, currency)
