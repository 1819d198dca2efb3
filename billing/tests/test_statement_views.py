"""The statements' pages: a client asks for a year and gets one job however
often they ask; bad years and other people's ids are refused; the progress
fragment; private downloads (attachment, no-store), staff downloads logged;
the job page's query count is the same at two sizes."""

from datetime import datetime

import pytest
import time_machine
from django.urls import reverse

from billing import statements
from billing.models import Statement, StatementJob
from billing.tasks import statements_build
from clinic.models import AccessLogEntry
from clinic.tests.factories import client_create

from .conftest import MTL

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 6, 20, 12, 0, tzinfo=MTL)


@pytest.fixture(autouse=True)
def june_2026():
    with time_machine.travel(NOW, tick=False):
        yield


def a_statement(client, year=2025, job=None):
    return Statement.objects.create(
        clinic=client.clinic,
        client=client,
        year=year,
        job=job,
        total_paid=0,
        pdf_en=b"%PDF-1.7 english",
        pdf_fr=b"%PDF-1.7 french",
    )


def test_a_client_asks_for_last_year_and_a_double_submit_makes_one_job(
    client, client_a, qc_billing
):
    client.force_login(client_a.user)
    url = reverse("billing:portal_statements")
    for _ in range(2):
        response = client.post(url, {"year": "2025"})
        assert response.status_code == 302
    job = StatementJob.objects.get()
    assert (job.client, job.year, job.status) == (client_a, 2025, "pending")
    page = client.get(url)
    assert page.status_code == 200
    assert reverse("billing:portal_statement_status", args=[job.uuid]).encode() in page.content
    assert b'hx-trigger="every 2s"' in page.content


@pytest.mark.parametrize(
    ("year", "message"),
    [
        ("2027", "has begun"),
        ("2023", "before 2024"),
        ("twenty", "from the list"),
        ("", "from the list"),
    ],
)
def test_a_bad_year_is_refused_with_a_message_and_no_job(
    client, client_a, qc_billing, year, message
):
    client.force_login(client_a.user)
    response = client.post(reverse("billing:portal_statements"), {"year": year})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not StatementJob.objects.exists()


def test_a_bad_year_is_refused_in_french(client, client_a, qc_billing):
    client_a.user.preferred_language = "fr"
    client_a.user.save()
    client.force_login(client_a.user)
    response = client.post(
        reverse("billing:portal_statements"), {"year": "2099"}, HTTP_ACCEPT_LANGUAGE="fr"
    )
    assert response.status_code == 400
    assert "année antérieure" in response.content.decode()


def test_the_status_fragment_shows_progress_then_the_download_link(client, client_a, qc_billing):
    job, _ = statements.statement_job_request(
        clinic=qc_billing, client=client_a, year=2025, actor=client_a.user
    )
    client.force_login(client_a.user)
    url = reverse("billing:portal_statement_status", args=[job.uuid])
    waiting = client.get(url).content.decode()
    assert "0 of 1 statement ready" in waiting and 'hx-trigger="every 2s"' in waiting
    statements_build()
    done = client.get(url).content.decode()
    statement = Statement.objects.get(client=client_a, year=2025)
    assert "1 of 1 statement ready" in done and "hx-trigger" not in done
    assert reverse("billing:portal_statement_pdf", args=[statement.uuid]) in done


def test_another_clients_job_and_statement_are_missing(client, client_a, client_b, qc_billing):
    job, _ = statements.statement_job_request(
        clinic=qc_billing, client=client_a, year=2025, actor=client_a.user
    )
    statement = a_statement(client_a)
    client.force_login(client_b.user)
    assert (
        client.get(reverse("billing:portal_statement_status", args=[job.uuid])).status_code == 404
    )
    assert (
        client.get(reverse("billing:portal_statement_pdf", args=[statement.uuid])).status_code
        == 404
    )


def test_the_client_downloads_an_attachment_never_stored_in_either_language(
    client, client_a, qc_billing
):
    statement = a_statement(client_a)
    client.force_login(client_a.user)
    url = reverse("billing:portal_statement_pdf", args=[statement.uuid])
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response["Cache-Control"]
    assert response.content == b"%PDF-1.7 english"
    assert client.get(url + "?lang=fr").content == b"%PDF-1.7 french"
    # Nothing of it under a public path.
    assert "/static/" not in url and "/media/" not in url


# --- Billing staff -------------------------------------------------------------------------


def test_staff_ask_for_every_client_of_their_clinic_and_twice_is_one_job(
    staff_login, biller, qc_billing
):
    browser = staff_login(biller)
    url = reverse("billing:staff_statements")
    first = browser.post(url, {"clinic": qc_billing.pk, "year": "2025"})
    second = browser.post(url, {"clinic": qc_billing.pk, "year": "2025"})
    job = StatementJob.objects.get()
    assert job.client is None
    assert (
        first["Location"]
        == second["Location"]
        == reverse("billing:staff_statement_job", args=[job.uuid])
    )


def test_staff_cannot_ask_for_another_clinics_clients(staff_login, biller, qc_billing, clinic_bc):
    browser = staff_login(biller)
    other = client_create(clinic=clinic_bc, email="bc.client@example.com")
    url = reverse("billing:staff_statements")
    assert browser.post(url, {"client": other.uuid, "year": "2025"}).status_code == 404
    assert browser.post(url, {"clinic": clinic_bc.pk, "year": "2025"}).status_code == 404
    assert browser.post(url, {"clinic": "x", "year": "2025"}).status_code == 404
    assert browser.post(url, {"client": "not-a-uuid", "year": "2025"}).status_code == 404
    assert not StatementJob.objects.exists()


def test_staff_ask_for_one_clients_statement(staff_login, biller, client_a, qc_billing):
    browser = staff_login(biller)
    response = browser.post(
        reverse("billing:staff_statements"), {"client": client_a.uuid, "year": "2026"}
    )
    assert response.status_code == 302
    assert StatementJob.objects.get().client == client_a


def test_a_staff_download_is_logged(staff_login, biller, client_a, qc_billing):
    statement = a_statement(client_a)
    browser = staff_login(biller)
    response = browser.get(reverse("billing:staff_statement_pdf", args=[statement.uuid]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response["Cache-Control"]
    entry = AccessLogEntry.objects.filter(actor=biller, action=AccessLogEntry.Action.DOWNLOAD).get()
    assert entry.client_id == client_a.pk


def test_the_staff_job_page_logs_the_statements_it_lists(staff_login, biller, client_a, qc_billing):
    job = StatementJob.objects.create(
        clinic=qc_billing, year=2025, requested_by=biller, status="done", total=1, done=1
    )
    a_statement(client_a, job=job)
    browser = staff_login(biller)
    assert browser.get(reverse("billing:staff_statement_job", args=[job.uuid])).status_code == 200
    assert AccessLogEntry.objects.filter(actor=biller, client=client_a).exists()


def test_the_staff_statements_page_logs_the_clients_its_jobs_name(
    staff_login, biller, client_a, qc_billing
):
    one = StatementJob.objects.create(
        clinic=qc_billing, client=client_a, year=2025, requested_by=biller, status="done"
    )
    StatementJob.objects.create(clinic=qc_billing, year=2025, requested_by=biller, status="done")
    browser = staff_login(biller)
    response = browser.get(reverse("billing:staff_statements"))
    assert client_a.user.get_full_name() in response.content.decode()
    entry = AccessLogEntry.objects.get(actor=biller, client=client_a)
    assert entry.object_id == str(one.uuid)


@pytest.mark.parametrize("size", [1, 10])
def test_the_staff_statements_page_costs_the_same_queries_at_two_sizes(
    staff_login, biller, qc_billing, django_assert_max_num_queries, size
):
    for number in range(size):
        client = client_create(clinic=qc_billing, email=f"c{number}@example.com")
        StatementJob.objects.create(
            clinic=qc_billing, client=client, year=2025, requested_by=biller, status="done"
        )
    browser = staff_login(biller)
    browser.get(reverse("billing:staff_statements"))  # warm the session and permissions
    with django_assert_max_num_queries(10):
        response = browser.get(reverse("billing:staff_statements"))
    assert response.status_code == 200
    assert AccessLogEntry.objects.filter(actor=biller).count() == 2 * size


@pytest.mark.parametrize("size", [1, 10])
def test_the_job_page_and_its_status_cost_the_same_queries_at_two_sizes(
    staff_login, biller, qc_billing, django_assert_max_num_queries, size
):
    job = StatementJob.objects.create(
        clinic=qc_billing, year=2025, requested_by=biller, status="running", total=size * 2
    )
    for number in range(size):
        a_statement(client_create(clinic=qc_billing, email=f"c{number}@example.com"), job=job)
    browser = staff_login(biller)
    browser.get(reverse("billing:staff_statements"))  # warm the session and permissions
    with django_assert_max_num_queries(9):
        response = browser.get(reverse("billing:staff_statement_job", args=[job.uuid]))
    assert response.status_code == 200
    with django_assert_max_num_queries(6):
        response = browser.get(reverse("billing:staff_statement_status", args=[job.uuid]))
    assert response.status_code == 200
    assert f"0 of {size * 2} statements ready" in response.content.decode()


def test_a_clinician_without_the_permission_cannot_download(
    staff_login, therapist, client_a, qc_billing
):
    statement = a_statement(client_a)
    browser = staff_login(therapist)
    assert (
        browser.get(reverse("billing:staff_statement_pdf", args=[statement.uuid])).status_code
        == 403
    )


@pytest.mark.parametrize("size", [1, 10])
def test_the_clients_statements_page_costs_the_same_queries_at_two_sizes(
    client, client_a, biller, qc_billing, django_assert_max_num_queries, size
):
    for year in range(2025 - size, 2025):
        a_statement(client_a, year=year)
        StatementJob.objects.create(
            clinic=qc_billing, client=client_a, year=year, requested_by=biller, status="done"
        )
    client.force_login(client_a.user)
    client.get(reverse("portal:home"))  # warm the session
    with django_assert_max_num_queries(7):
        response = client.get(reverse("billing:portal_statements"))
    assert response.status_code == 200
    page = response.content.decode()
    assert all(str(year) in page for year in range(2025 - size, 2025))
