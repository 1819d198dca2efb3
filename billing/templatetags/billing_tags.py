"""Money and lines as a Canadian reader expects them, in their language."""

from decimal import Decimal

from django import template

register = template.Library()
NBSP = "\u00a0"


@register.filter
def money(value, language: str = "en") -> str:
    """12345.6 -> "$12,345.60" (English) or "12 345,60 $" (French)."""
    if value is None or value == "":
        return ""
    amount = Decimal(value).quantize(Decimal("0.01"))
    sign = "-" if amount < 0 else ""
    whole, cents = f"{abs(amount):,.2f}".split(".")
    if str(language).startswith("fr"):
        return sign + whole.replace(",", NBSP) + "," + cents + NBSP + "$"
    return f"{sign}${whole}.{cents}"


@register.filter
def isoformat(value) -> str:
    return value.isoformat() if value else ""


@register.simple_tag
def line_description(line, language: str) -> str:
    return line.description(language)


@register.simple_tag
def paid_of(breakdown, line):
    return breakdown.paid_by_line.get(line.pk, Decimal("0.00"))
