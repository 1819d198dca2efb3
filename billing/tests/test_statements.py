"""Year-end statements: what a client paid in a calendar year, read back
from the PDF in both languages (that year's payments only, psychotherapy
apart); the job a request writes, its progress and the worker's run; the
pages' refusals, downloads, access log and query budget."""

import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from billing import services, statements
from billing.models import Statement, StatementJob
from billing.tasks import statements_build
from billing.templatetags.billing_tags import money
from clinic.models import AppointmentKind
from clinic.tests.factories import client_create

from .conftest import MTL
from .factories import held
from .test_pdf import flat, text_of

pytestmark = pytest.mark.django_db
TODAY = datetime(2026, 6, 20, 12, 0, tzinfo=MTL)


def pay(invoice, amount: str, on: date, biller):
    with time_machine.travel(datetime(on.year, on.month, on.day, 15, 0, tzinfo=MTL), tick=False):
        return services.payment_record(
            invoice=invoice,
            method="card",
            amount=Decimal(amount),
            received_on=on,
            reference="",
            submission=uuid.uuid4(),
            actor=biller,
        )[0]


def invoiced(client, appointments, biller, on: date):
    invoice = services.invoice_draft(client=client, appointments=appointments, actor=biller)
    return services.invoice_issue(invoice=invoice, actor=biller, today=on)


@pytest.fixture
def two_years(client_a, qc_team, biller):
    """A dosing and an integration session in June 2025, 300.00 paid in 2025
    and the rest in January 2026; an integration session in March 2026 paid
    in full in 2026."""
    therapist, physician = qc_team
    client_a.date_of_birth = date(1985, 4, 12)
    client_a.save()
    client_a.user.first_name, client_a.user.last_name = "Alex", "Tremblay"
    client_a.user.save()
    june = datetime(2025, 6, 3, 10, 0, tzinfo=MTL)
    first = invoiced(
        client_a,
        [
            held(
                client=client_a,
                kind=AppointmentKind.DOSING_SESSION,
                start=june,
                staff=[therapist, physician],
                minutes=180,
            ),
            held(
                client=client_a,
                kind=AppointmentKind.INTEGRATION_SESSION,
                start=june + timedelta(days=1),
                staff=[therapist],
            ),
        ],
        biller,
        date(2025, 6, 10),
    )
    pay(first, "300.00", date(2025, 6, 11), biller)
    rest = first.total - Decimal("300.00")
    pay(first, str(rest), date(2026, 1, 15), biller)
    second = invoiced(
        client_a,
        [
            held(
                client=client_a,
                kind=AppointmentKind.INTEGRATION_SESSION,
                start=datetime(2026, 3, 2, 10, 0, tzinfo=MTL),
                staff=[therapist],
            )
        ],
        biller,
        date(2026, 3, 3),
    )
    pay(second, str(second.total), date(2026, 3, 4), biller)
    return {
        "first": first,
        "second": second,
        "paid_2025": Decimal("300.00"),
        "paid_2026": rest + second.total,
    }


# --- The content ---------------------------------------------------------------------------


def test_a_years_rows_add_up_to_the_payments_received_in_that_year_only(client_a, two_years):
    for year, paid in ((2025, two_years["paid_2025"]), (2026, two_years["paid_2026"])):
        content = statements.statement_content(client=client_a, year=year, language="en")
        assert content.total == paid
        assert content.psychotherapy_total + content.other_total == paid
        assert sum(r.paid for r in content.psychotherapy + content.other) == paid
        assert all(r.paid > 0 for r in content.psychotherapy + content.other)
    assert statements.statement_content(client=client_a, year=2024, language="en").total == 0


def test_psychotherapy_rows_are_apart_from_the_medical_and_medication_rows(client_a, two_years):
    content = statements.statement_content(client=client_a, year=2026, language="en")
    assert content.psychotherapy
    assert {r.provider_registration for r in content.psychotherapy} == {"OPQ-PSY-4521"}
    assert "OPQ-PSY-4521" not in {r.provider_registration for r in content.other}


@pytest.mark.parametrize(
    ("language", "title", "psychotherapy", "registration", "total_label"),
    [
        (
            "en",
            "Year-end statement of payments, 2026",
            "Psychotherapy services",
            "Registration no. OPQ-PSY-4521",
            "Total paid in 2026",
        ),
        (
            "fr",
            "Relevé annuel des paiements, 2026",
            "Services de psychothérapie",
            "N° de permis OPQ-PSY-4521",
            "Total payé en 2026",
        ),
    ],
)
def test_the_statement_pdf_shows_the_years_payments_in_each_language(
    client_a, two_years, language, title, psychotherapy, registration, total_label
):
    statement = statements.statement_build(client=client_a, year=2026)
    content = statements.statement_content(client=client_a, year=2026, language=language)
    text = flat(text_of(statement.pdf(language)))
    assert title in text
    assert psychotherapy in text
    assert registration in text
    assert "Alex Tremblay" in text and "1985-04-12" in text
    total = flat(money(two_years["paid_2026"], language))
    assert f"{flat(total_label)} {total}" in text
    assert flat(money(content.psychotherapy_total, language)) in text
    # 2025's payment is not on 2026's statement.
    assert "2025-06-11" not in text
    assert statement.total_paid == two_years["paid_2026"]


def test_the_statement_names_no_diagnosis(client_a, two_years):
    statement = statements.statement_build(client=client_a, year=2026)
    for language in ("en", "fr"):
        text = flat(text_of(statement.pdf(language))).lower()
        for word in ("depress", "dépress", "diagnos", "ptsd", "tspt", "ketamine", "kétamine"):
            assert word not in text


def test_the_statement_is_a_tagged_pdf_with_its_language(client_a, two_years):
    import io

    from pypdf import PdfReader

    statement = statements.statement_build(client=client_a, year=2026)
    reader = PdfReader(io.BytesIO(statement.pdf("fr")))
    root = reader.trailer["/Root"]
    assert str(root["/Lang"]).startswith("fr")
    assert "/StructTreeRoot" in root
    assert "2026" in reader.metadata.title


# --- Years ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("2027", "has begun"),
        ("2023", "before 2024"),
        ("last year", "from the list"),
        ("", "from the list"),
        ("2026.5", "from the list"),
    ],
)
def test_a_year_in_the_future_before_the_clinic_or_not_a_number_is_refused(
    qc_billing, raw, message
):
    with time_machine.travel(TODAY, tick=False), pytest.raises(statements.StatementError) as exc:
        statements.year_parse(qc_billing, raw)
    assert message in str(exc.value)


def test_the_years_offered_run_from_this_year_back_to_the_clinics_first(qc_billing):
    assert statements.statement_years(qc_billing, today=date(2026, 6, 20)) == [2026, 2025, 2024]


# --- The job and the worker -----------------------------------------------------------------


def test_asking_twice_while_a_job_waits_gives_the_same_job(client_a, qc_billing):
    first, created = statements.statement_job_request(
        clinic=qc_billing, client=client_a, year=2025, actor=client_a.user
    )
    again, created_again = statements.statement_job_request(
        clinic=qc_billing, client=client_a, year=2025, actor=client_a.user
    )
    assert created and not created_again and again.pk == first.pk
    assert StatementJob.objects.count() == 1


def test_the_constraint_refuses_a_second_waiting_job_for_the_same_client_and_year(
    client_a, qc_billing
):
    from django.db import IntegrityError, transaction

    StatementJob.objects.create(
        clinic=qc_billing, client=client_a, year=2025, requested_by=client_a.user
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        StatementJob.objects.create(
            clinic=qc_billing, client=client_a, year=2025, requested_by=client_a.user
        )


def test_another_clinics_client_is_refused(client_a, clinic_bc, coordinator):
    with pytest.raises(statements.StatementError):
        statements.statement_job_request(
            clinic=clinic_bc, client=client_a, year=2025, actor=coordinator
        )


def test_the_worker_builds_one_clients_statement_and_marks_the_job_done(client_a, two_years):
    job, _ = statements.statement_job_request(
        clinic=client_a.clinic, client=client_a, year=2026, actor=client_a.user
    )
    assert (job.status, job.done, job.total, job.percent) == ("pending", 0, 1, 0)
    assert statements_build() == {"jobs": 1}
    job.refresh_from_db()
    assert (job.status, job.done, job.total, job.percent) == ("done", 1, 1, 100)
    statement = Statement.objects.get(client=client_a, year=2026)
    assert statement.job == job and statement.total_paid == two_years["paid_2026"]
    assert statements_build() == {"jobs": 0}  # nothing left waiting


def test_a_clinic_job_builds_a_statement_for_each_client_who_paid_that_year(
    client_a, client_b, two_years, biller, qc_team
):
    therapist, _physician = qc_team
    invoice = invoiced(
        client_b,
        [held(client=client_b, start=datetime(2026, 2, 2, 10, 0, tzinfo=MTL), staff=[therapist])],
        biller,
        date(2026, 2, 3),
    )
    pay(invoice, "10.00", date(2026, 2, 4), biller)
    client_create(clinic=client_a.clinic, email="nothing.paid@example.com")  # no statement
    seen = []

    real_build = statements.statement_build

    def watching(**kwargs):
        job = StatementJob.objects.get(pk=kwargs["job"].pk)
        seen.append((job.status, job.done, job.total))
        return real_build(**kwargs)

    job, _ = statements.statement_job_request(
        clinic=client_a.clinic, client=None, year=2026, actor=biller
    )
    statements.statement_build = watching
    try:
        statements_build()
    finally:
        statements.statement_build = real_build
    assert seen == [("running", 0, 2), ("running", 1, 2)]
    job.refresh_from_db()
    assert (job.status, job.done, job.total) == ("done", 2, 2)
    assert set(Statement.objects.filter(job=job).values_list("client", flat=True)) == {
        client_a.pk,
        client_b.pk,
    }


def test_a_failed_build_marks_the_job_failed_and_a_new_request_starts_over(
    client_a, qc_billing, monkeypatch
):
    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(statements, "statement_build", broken)
    job, _ = statements.statement_job_request(
        clinic=qc_billing, client=client_a, year=2025, actor=client_a.user
    )
    statements_build()
    job.refresh_from_db()
    assert job.status == "failed" and "disk full" in job.error
    again, created = statements.statement_job_request(
        clinic=qc_billing, client=client_a, year=2025, actor=client_a.user
    )
    assert created and again.pk != job.pk


def test_a_running_job_is_not_claimed_twice(client_a, qc_billing):
    statements.statement_job_request(
        clinic=qc_billing, client=client_a, year=2025, actor=client_a.user
    )
    assert statements.statement_job_claim() is not None
    assert statements.statement_job_claim() is None


def test_a_job_left_running_by_a_dead_worker_is_taken_over_after_a_while(client_a, qc_billing):
    from django.utils import timezone

    statements.statement_job_request(
        clinic=qc_billing, client=client_a, year=2025, actor=client_a.user
    )
    job = statements.statement_job_claim()  # the worker dies here
    assert statements.statement_job_claim(now=timezone.now() + timedelta(minutes=5)) is None
    later = timezone.now() + statements.STALE + timedelta(minutes=1)
    again = statements.statement_job_claim(now=later)
    assert again is not None and again.pk == job.pk
    statements.statement_job_run(job=again)
    again.refresh_from_db()
    assert (again.status, again.done, again.total) == ("done", 1, 1)
