"""Invoice numbers under concurrency, on PostgreSQL with real threads and
connections: many invoices of one clinic issued at the same moment get
consecutive numbers with no gap and no duplicate, because each issuer locks
the clinic's counter row for the year. The control shows the race is real:
without the lock, issuers read the same last number and collide. Also: two
people paying the whole balance at once record one payment; two drafts of
the same appointment at once make one invoice."""

import threading
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from billing import services
from billing.models import Counter, Invoice, Payment
from billing.tests.factories import billing_ready, billing_staff, held, team
from clinic.tests.factories import client_create
from tests.concurrency import race as run_race

pytestmark = pytest.mark.django_db(transaction=True)

MTL = ZoneInfo("America/Toronto")
DAY = datetime(2026, 6, 3, 9, 0, tzinfo=MTL)
ISSUERS = 6


def race(*attempts) -> dict[str, list]:
    return run_race(attempts, refusal=services.BillingError)


@pytest.fixture
def drafts(clinic_qc, coordinator):
    billing_ready(clinic_qc)
    therapist, _physician = team(clinic_qc)
    biller = billing_staff(coordinator)
    made = []
    for i in range(ISSUERS):
        client = client_create(clinic=clinic_qc)
        appointment = held(client=client, start=DAY + timedelta(hours=i), staff=[therapist])
        made.append(services.invoice_draft(client=client, appointments=[appointment], actor=biller))
    return made, biller


def issue_all(drafts, biller):
    return race(
        *(
            lambda d=d: services.invoice_issue(invoice=d, actor=biller, today=date(2026, 6, 10))
            for d in drafts
        )
    )


def test_invoices_issued_at_the_same_moment_get_consecutive_numbers(drafts):
    made, biller = drafts
    outcomes = issue_all(made, biller)
    assert outcomes["crashed"] == [] and outcomes["refused"] == []
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == [f"MTL-2026-{n:06d}" for n in range(1, ISSUERS + 1)]
    assert Counter.objects.get(series="invoice", year=2026).last == ISSUERS


def test_control_without_the_counter_lock_issuers_collide(drafts, monkeypatch):
    """The same race with the row lock taken away and every issuer made to
    read the counter before any writes it: numbers repeat (the unique
    constraint turns the duplicates into errors), so the test above would fail."""
    made, biller = drafts
    after_read = threading.Barrier(ISSUERS)
    monkeypatch.setattr(
        services,
        "_lock_counter",
        lambda *, clinic, series, year: Counter.objects.get_or_create(
            clinic=clinic, series=series, year=year
        )[0],
    )
    monkeypatch.setattr(services, "_after_counter_read", lambda: after_read.wait(timeout=30))
    Counter.objects.create(clinic=made[0].clinic, series="invoice", year=2026)
    outcomes = issue_all(made, biller)
    numbers = list(Invoice.objects.exclude(number="").values_list("number", flat=True))
    assert outcomes["crashed"], "without the lock the issuers should have collided"
    assert len(numbers) < ISSUERS


def test_two_people_paying_the_whole_balance_at_once_record_one_payment(drafts):
    made, biller = drafts
    invoice = services.invoice_issue(invoice=made[0], actor=biller, today=date(2026, 6, 10))
    pay = lambda: services.payment_record(  # noqa: E731
        invoice=invoice,
        method="card",
        amount=invoice.total,
        received_on=date(2026, 6, 10),
        reference="",
        submission=uuid.uuid4(),
        actor=biller,
    )
    import time_machine

    with time_machine.travel(datetime(2026, 6, 11, 12, tzinfo=MTL), tick=False):
        outcomes = race(pay, pay)
    assert outcomes["crashed"] == []
    assert len(outcomes["done"]) == 1 and len(outcomes["refused"]) == 1
    assert outcomes["refused"][0] in (services.PAYMENT_TOO_LARGE(), services.PAYMENT_NOT_ISSUED())
    assert Payment.objects.get().amount == invoice.total == Decimal("180.00")


def test_the_same_submission_twice_at_once_records_one_payment(drafts):
    made, biller = drafts
    invoice = services.invoice_issue(invoice=made[0], actor=biller, today=date(2026, 6, 10))
    key = uuid.uuid4()
    pay = lambda: services.payment_record(  # noqa: E731
        invoice=invoice,
        method="cash",
        amount=Decimal("20.00"),
        received_on=date(2026, 6, 10),
        reference="",
        submission=key,
        actor=biller,
    )
    import time_machine

    with time_machine.travel(datetime(2026, 6, 11, 12, tzinfo=MTL), tick=False):
        outcomes = race(pay, pay)
    assert outcomes["crashed"] == [] and len(outcomes["done"]) == 2
    assert Payment.objects.count() == 1


def test_two_drafts_of_the_same_appointment_at_once_make_one_invoice(clinic_qc, coordinator):
    billing_ready(clinic_qc)
    therapist, _physician = team(clinic_qc)
    biller = billing_staff(coordinator)
    client = client_create(clinic=clinic_qc)
    appointment = held(client=client, start=DAY, staff=[therapist])
    draft = lambda: services.invoice_draft(  # noqa: E731
        client=client, appointments=[appointment], actor=biller
    )
    outcomes = race(draft, draft)
    assert outcomes["crashed"] == []
    assert len(outcomes["done"]) == 1 and outcomes["refused"] == [services.ALREADY_INVOICED()]
    assert Invoice.objects.count() == 1
