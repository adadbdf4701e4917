"""Formatting for money and ratios: exact, right-aligned, and readable without colour."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from equipoise.core.money import Money

register = template.Library()


@register.filter
def money(amount_minor: int | None, currency: str = "EUR") -> str:
    """1234567 → "12,345.67" (the currency's own number of decimals)."""
    if amount_minor is None or amount_minor == "":
        return "—"
    value = Money.from_minor(int(amount_minor), currency)
    text = value.format().split(" ", 1)[1]
    return text.replace("-", "−")


@register.filter
def money_whole(amount_minor: int | None, currency: str = "EUR") -> str:
    """Rounded to whole units by the one rounding rule, for charts' hover text and compact summaries."""
    if amount_minor is None or amount_minor == "":
        return "—"
    value = Money.from_minor(int(amount_minor), currency)
    return f"{value.amount.quantize(Decimal(1)):,}".replace("-", "−")


@register.filter
def money_cur(amount_minor: int | None, currency: str = "EUR") -> str:
    return f"{currency} {money(amount_minor, currency)}"


@register.simple_tag
def variance(amount_minor: int, currency: str = "EUR", favourable_when_positive: bool = True) -> SafeString:
    """A signed amount marked by an arrow and a word for screen readers, not only by colour."""
    if amount_minor == 0:
        return format_html('<span class="variance variance-zero">{}</span>', money(0, currency))
    favourable = (amount_minor > 0) == favourable_when_positive
    arrow = "▲" if amount_minor > 0 else "▼"
    css = "variance-good" if favourable else "variance-bad"
    word = "favourable" if favourable else "unfavourable"
    sign = "+" if amount_minor > 0 else ""
    return format_html(
        '<span class="variance {}"><span aria-hidden="true">{} </span>{}{}<span class="visually-hidden"> ({})</span></span>',
        css,
        arrow,
        sign,
        money(amount_minor, currency),
        word,
    )


@register.filter
def percent_bp(basis_points: int | None) -> str:
    if basis_points is None:
        return "—"
    return f"{Decimal(basis_points) / 100:.2f}%".replace(".00%", "%")


@register.filter
def ratio_percent(numerator: int, denominator: int) -> str:
    if not denominator:
        return "—"
    return f"{Decimal(numerator) * 100 / Decimal(denominator):.1f}%"


@register.filter
def duration_ms(milliseconds: int | None) -> str:
    """How long something took, as people say it: "840 ms", "9.9 s", "4 min 59 s"."""
    if milliseconds is None:
        return "—"
    if milliseconds < 1000:
        return f"{milliseconds} ms"
    if milliseconds < 59_950:  # from here it would round to "60.0 s"
        return f"{Decimal(milliseconds) / 1000:.1f} s"
    seconds = (milliseconds + 500) // 1000
    return f"{seconds // 60} min {seconds % 60} s"


@register.filter
def index(sequence: list[object], position: int) -> object:
    return sequence[position]
