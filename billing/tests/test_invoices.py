"""Invoices from held appointments: lines copied from the catalogue in force
that day, draft -> issued -> paid or void, numbering, credit notes, payments
and balances. Refusals leave what was saved as it was."""

import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine

from billing import services
from billing.models import BilledAppointment, CatalogueItem, Invoice, Payment
from clinic.models import AppointmentKind
from clinic.tests.factories import client_create

from .factories import held

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture
def dosing(client_a, qc_team, june):
    therapist, physician = qc_team
    return held(
        client=client_a,
        kind=AppointmentKind.DOSING_SESSION,
        start=june,
        staff=[therapist, physician],
        minutes=180,
    )


@pytest.fixture
def draft(client_a, dosing, biller):
    return services.invoice_draft(client=client_a, appointments=[dosing], actor=biller)


def issue(invoice, biller, day=date(2026, 6, 10)):
    return services.invoice_issue(invoice=invoice, actor=biller, today=day)


def pay(invoice, biller, amount, submission=None, on=date(2026, 6, 10)):
    with time_machine.travel(date(2026, 6, 12), tick=False):
        return services.payment_record(
            invoice=invoice,
            method="card",
            amount=D(amount),
            received_on=on,
            reference="",
            submission=submission or uuid.uuid4(),
            actor=biller,
        )


def test_a_dosing_session_is_billed_as_its_four_parts_with_their_providers(draft, qc_team):
    therapist, physician = qc_team
    lines = {line.code: line for line in draft.lines.all()}
    assert set(lines) == {
        "dosing-medical",
        "dosing-medication",
        "dosing-psychotherapy",
        "dosing-room",
    }
    assert lines["dosing-psychotherapy"].provider_registration == "OPQ-PSY-4521"
    assert lines["dosing-psychotherapy"].exempt
    assert lines["dosing-medical"].provider_registration == "CMQ-88123"
    assert lines["dosing-medication"].taxes == {} and not lines["dosing-medication"].exempt
    assert lines["dosing-room"].taxes == {"GST": "2.00", "QST": "3.99"}
    assert lines["dosing-room"].duration_minutes == 180
    # Totals are the sums of the rounded lines.
    assert (draft.subtotal, draft.tax_total, draft.total) == (D("740.00"), D("5.99"), D("745.99"))


def test_a_price_change_never_alters_an_invoice_already_made(
    draft, client_a, qc_team, biller, june
):
    issue(draft, biller)
    CatalogueItem.objects.filter(code="dosing-psychotherapy").update(
        effective_until=date(2026, 7, 1)
    )
    old = CatalogueItem.objects.get(code="dosing-psychotherapy")
    CatalogueItem.objects.create(
        clinic=old.clinic,
        code=old.code,
        name_en=old.name_en,
        name_fr=old.name_fr,
        component=old.component,
        tax_treatment=old.tax_treatment,
        price=D("400.00"),
        appointment_kind=old.appointment_kind,
        effective_from=date(2026, 7, 1),
    )
    draft.refresh_from_db()
    assert draft.total == D("745.99")
    assert draft.lines.get(code="dosing-psychotherapy").unit_price == D("360.00")
    later = held(
        client=client_a,
        kind=AppointmentKind.DOSING_SESSION,
        start=june + timedelta(days=30),
        staff=list(qc_team),
        minutes=180,
    )
    second = services.invoice_draft(client=client_a, appointments=[later], actor=biller)
    assert second.lines.get(code="dosing-psychotherapy").unit_price == D("400.00")


def test_the_same_appointment_is_never_invoiced_twice(draft, client_a, dosing, biller):
    before = Invoice.objects.count()
    with pytest.raises(services.BillingError) as refused:
        services.invoice_draft(client=client_a, appointments=[dosing], actor=biller)
    assert str(refused.value) == services.ALREADY_INVOICED()
    assert Invoice.objects.count() == before


def test_an_appointment_that_did_not_take_place_or_of_another_client_is_refused(
    client_a, client_b, qc_team, biller, june
):
    from clinic import calendar

    booked = calendar.appointment_book(
        clinic=client_a.clinic,
        kind=AppointmentKind.PREPARATORY_SESSION,
        start=june,
        end=june + timedelta(hours=1),
        staff=[qc_team[0]],
        client=client_a,
    )
    with pytest.raises(services.BillingError):
        services.invoice_draft(client=client_a, appointments=[booked], actor=biller)
    theirs = held(client=client_b, start=june + timedelta(days=1), staff=[qc_team[0]])
    with pytest.raises(services.BillingError):
        services.invoice_draft(client=client_a, appointments=[theirs], actor=biller)
    assert not Invoice.objects.exists()


def test_issuing_numbers_per_clinic_and_year_in_sequence(draft, client_a, qc_team, biller, june):
    issue(draft, biller)
    assert draft.number == "MTL-2026-000001"
    assert draft.status == Invoice.Status.ISSUED and draft.due_on == date(2026, 7, 10)
    other = held(client=client_a, start=june + timedelta(days=2), staff=[qc_team[0]])
    second = issue(
        services.invoice_draft(client=client_a, appointments=[other], actor=biller), biller
    )
    assert second.number == "MTL-2026-000002"
    third_appt = held(client=client_a, start=june + timedelta(days=3), staff=[qc_team[0]])
    third = services.invoice_draft(client=client_a, appointments=[third_appt], actor=biller)
    assert issue(third, biller, day=date(2027, 1, 4)).number == "MTL-2027-000001"


def test_an_issued_or_voided_invoice_cannot_be_issued_again_and_keeps_its_number(draft, biller):
    issue(draft, biller)
    with pytest.raises(services.BillingError) as refused:
        issue(draft, biller)
    assert str(refused.value) == services.NOT_DRAFT()
    draft.refresh_from_db()
    assert draft.number == "MTL-2026-000001"


def test_a_failed_issue_gives_its_number_back(draft, client_a, qc_team, biller, june):
    services.invoice_void(invoice=draft, actor=biller)
    with pytest.raises(services.BillingError):
        issue(draft, biller)  # void: refused, and the counter rolled back with it
    other = held(client=client_a, start=june + timedelta(days=2), staff=[qc_team[0]])
    fresh = services.invoice_draft(client=client_a, appointments=[other], actor=biller)
    assert issue(fresh, biller).number == "MTL-2026-000001"


def test_voiding_frees_the_appointments_and_a_paid_invoice_cannot_be_voided(
    draft, client_a, dosing, biller
):
    services.invoice_void(invoice=draft, actor=biller)
    assert not BilledAppointment.objects.exists()
    again = services.invoice_draft(client=client_a, appointments=[dosing], actor=biller)
    issue(again, biller)
    pay(again, biller, "10.00")
    with pytest.raises(services.BillingError):
        services.invoice_void(invoice=again, actor=biller)
    again.refresh_from_db()
    assert again.status == Invoice.Status.ISSUED


def test_payments_bring_the_balance_to_zero_and_the_invoice_to_paid(draft, biller):
    issue(draft, biller)
    first, created = pay(draft, biller, "500.00")
    assert created and first.receipt_number == "MTL-R-2026-000001"
    assert services.balance_of(draft).due == D("245.99")
    with pytest.raises(services.BillingError) as refused:
        pay(draft, biller, "246.00")
    assert str(refused.value) == services.PAYMENT_TOO_LARGE()
    pay(draft, biller, "245.99")
    draft.refresh_from_db()
    assert draft.status == Invoice.Status.PAID
    assert services.balance_of(draft).due == 0
    with pytest.raises(services.BillingError):
        pay(draft, biller, "0.01")


@pytest.mark.parametrize("amount", ["0", "-5.00", "10.005", "100000.01"])
def test_absurd_amounts_are_refused(draft, biller, amount):
    issue(draft, biller)
    with pytest.raises(services.BillingError) as refused:
        pay(draft, biller, amount)
    assert str(refused.value) == services.BAD_AMOUNT()
    assert not Payment.objects.exists()


def test_a_payment_on_a_draft_or_dated_in_the_future_is_refused(draft, biller):
    with pytest.raises(services.BillingError):
        pay(draft, biller, "10.00")
    issue(draft, biller)
    with pytest.raises(services.BillingError) as refused:
        pay(draft, biller, "10.00", on=date(2026, 6, 13))
    assert str(refused.value) == services.BAD_DATE()
    assert not Payment.objects.exists()


def test_a_double_submit_records_one_payment(draft, biller):
    issue(draft, biller)
    key = uuid.uuid4()
    first, created = pay(draft, biller, "100.00", submission=key)
    again, created_again = pay(draft, biller, "100.00", submission=key)
    assert created and not created_again and again.pk == first.pk
    assert Payment.objects.count() == 1


def test_a_credit_note_negates_the_invoice_and_settles_its_balance(draft, biller):
    issue(draft, biller)
    pay(draft, biller, "100.00")
    note = services.credit_note_issue(
        invoice=draft, actor=biller, reason="Session cut short", today=date(2026, 6, 11)
    )
    assert note.number == "MTL-2026-000002" and note.credits == draft
    assert (note.subtotal, note.tax_total, note.total) == (D("-740.00"), D("-5.99"), D("-745.99"))
    balance = services.balance_of(draft)
    assert balance.credited == D("745.99") and balance.paid == D("100.00")
    assert balance.due == D("-100.00")  # owed back to the client
    with pytest.raises(services.BillingError):
        services.credit_note_issue(invoice=draft, actor=biller, reason="again")
    with pytest.raises(services.BillingError):
        services.credit_note_issue(invoice=note, actor=biller, reason="a note of a note")


def test_a_draft_cannot_be_credited(draft, biller):
    with pytest.raises(services.BillingError) as refused:
        services.credit_note_issue(invoice=draft, actor=biller, reason="x")
    assert str(refused.value) == services.CANNOT_CREDIT()


def test_vancouver_numbers_its_own_series_and_charges_pst(bc_billing, biller):
    from billing.tests.factories import team

    therapist, physician = team(bc_billing)
    client = client_create(clinic=bc_billing)
    from datetime import datetime
    from zoneinfo import ZoneInfo

    appointment = held(
        client=client,
        kind=AppointmentKind.DOSING_SESSION,
        start=datetime(2026, 6, 3, 10, tzinfo=ZoneInfo("America/Vancouver")),
        staff=[therapist, physician],
        minutes=180,
    )
    invoice = services.invoice_draft(client=client, appointments=[appointment], actor=biller)
    assert invoice.lines.get(code="dosing-room").taxes == {"GST": "2.00", "PST": "2.80"}
    assert issue(invoice, biller).number == "VAN-2026-000001"
