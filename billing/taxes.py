"""The taxes of one line, as pure arithmetic over `Decimal`.

Each tax of each line is rounded to the cent, half up, and the invoice's
totals are the sums of the rounded lines: what is printed always adds up.

Rules (Excise Tax Act, Schedules V and VI; Quebec's QST Act follows them):
- services of physicians and nurses are exempt;
- psychotherapy and counselling therapy are exempt from GST/HST and QST for
  services from 2024-06-20 when the provider practises the profession (in
  Quebec, holds a psychotherapist's permit from the Ordre des psychologues),
  which this app reads as: the provider's registration number is on file;
  otherwise they are taxable;
- prescription drugs are zero-rated (taxed at 0 %);
- anything else is taxable at the province's rates in force that day."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from .models import CENT, TaxRate, TaxTreatment

PSYCHOTHERAPY_EXEMPT_FROM = date(2024, 6, 20)
HUNDRED = Decimal(100)


def cents(value: Decimal) -> Decimal:
    """Round to the cent, half up (0.005 -> 0.01), as the tax authorities do."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class LineTaxes:
    exempt: bool
    taxes: dict[str, Decimal] = field(default_factory=dict)

    @property
    def total(self) -> Decimal:
        return sum(self.taxes.values(), Decimal("0.00"))


def rates_in_force(
    province: str, on: date, rates: Iterable[TaxRate] | None = None
) -> list[TaxRate]:
    """The province's taxes in force on a day (rates may be passed in, so a
    whole invoice reads them with one query)."""
    if rates is None:
        rates = TaxRate.objects.filter(province=province)
    return sorted(
        (
            r
            for r in rates
            if r.province == province
            and r.effective_from <= on
            and (r.effective_until is None or on < r.effective_until)
        ),
        key=lambda r: r.tax,
    )


def is_exempt(*, treatment: str, service_date: date, provider_registration: str) -> bool:
    if treatment == TaxTreatment.EXEMPT_HEALTH:
        return True
    if treatment == TaxTreatment.PSYCHOTHERAPY:
        return service_date >= PSYCHOTHERAPY_EXEMPT_FROM and bool(provider_registration.strip())
    return False


def line_taxes(
    *,
    amount: Decimal,
    treatment: str,
    province: str,
    service_date: date,
    provider_registration: str = "",
    rates: Iterable[TaxRate] | None = None,
) -> LineTaxes:
    if is_exempt(
        treatment=treatment, service_date=service_date, provider_registration=provider_registration
    ):
        return LineTaxes(exempt=True)
    if treatment == TaxTreatment.ZERO_RATED_DRUG:
        return LineTaxes(exempt=False)
    return LineTaxes(
        exempt=False,
        taxes={
            r.tax: cents(amount * r.rate / HUNDRED)
            for r in rates_in_force(province, service_date, rates)
        },
    )


def check_amount(value: Decimal) -> Decimal:
    """An amount as stored: at most two decimals (a third is refused, not rounded)."""
    if value != value.quantize(CENT):
        raise ValueError("more than two decimals")
    return value.quantize(CENT)
