"""The arithmetic: rounding to the cent half up per line, taxes by province,
by date and by treatment, and totals that are sums of the rounded lines."""

from datetime import date
from decimal import Decimal

import pytest

from billing import taxes
from billing.models import TaxRate, TaxTreatment

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.005", "0.01"),
        ("2.345", "2.35"),
        ("2.3449", "2.34"),
        ("-0.005", "-0.01"),
        ("3.99", "3.99"),
    ],
)
def test_it_rounds_to_the_cent_half_up(value, expected):
    assert taxes.cents(D(value)) == D(expected)


def tax(amount, treatment=TaxTreatment.TAXABLE, province="QC", on=date(2026, 6, 3), reg=""):
    return taxes.line_taxes(
        amount=D(amount),
        treatment=treatment,
        province=province,
        service_date=on,
        provider_registration=reg,
    )


def test_quebec_charges_gst_and_qst_each_rounded():
    result = tax("40.00")
    assert result.taxes == {"GST": D("2.00"), "QST": D("3.99")}
    assert result.total == D("5.99")


def test_british_columbia_charges_gst_and_pst():
    result = tax("25.00", province="BC")
    assert result.taxes == {"GST": D("1.25"), "PST": D("1.75")}


def test_a_half_cent_of_tax_goes_up_not_to_the_even_cent():
    # 0.10 x 5 % = 0.005: half up gives 0.01 (banker's rounding would give 0.00).
    assert tax("0.10", province="BC").taxes["GST"] == D("0.01")


def test_health_services_are_exempt_and_drugs_zero_rated():
    exempt = tax("250.00", TaxTreatment.EXEMPT_HEALTH)
    assert exempt.exempt and exempt.total == 0
    drug = tax("90.00", TaxTreatment.ZERO_RATED_DRUG)
    assert not drug.exempt and drug.taxes == {} and drug.total == 0


@pytest.mark.parametrize(
    ("on", "reg", "exempt"),
    [
        (date(2024, 6, 20), "OPQ-PSY-1", True),  # the first day of the exemption
        (date(2024, 6, 19), "OPQ-PSY-1", False),  # the day before: taxable
        (date(2026, 1, 5), "", False),  # no permit on file: taxable
        (date(2026, 1, 5), "   ", False),
    ],
)
def test_psychotherapy_is_exempt_from_2024_06_20_when_the_provider_holds_a_permit(on, reg, exempt):
    result = tax("180.00", TaxTreatment.PSYCHOTHERAPY, on=on, reg=reg)
    assert result.exempt is exempt
    assert result.total == (D("0.00") if exempt else D("9.00") + D("17.96"))


def test_the_rate_in_force_on_the_day_of_service_applies():
    TaxRate.objects.filter(province="QC", tax="QST").update(effective_until=date(2027, 1, 1))
    TaxRate.objects.create(
        province="QC", tax="QST", rate=D("10.000"), effective_from=date(2027, 1, 1)
    )
    assert tax("100.00", on=date(2026, 12, 31)).taxes["QST"] == D("9.98")
    assert tax("100.00", on=date(2027, 1, 1)).taxes["QST"] == D("10.00")
    assert tax("100.00", on=date(2007, 1, 1)).taxes == {}  # before any rate configured


def test_an_amount_with_three_decimals_is_refused_not_rounded():
    with pytest.raises(ValueError):
        taxes.check_amount(D("10.005"))
    assert taxes.check_amount(D("10.5")) == D("10.50")
