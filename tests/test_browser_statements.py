"""Year-end statements in a real browser, in English and in French: the
client asks for last year's statement from their billing page, sees its
progress while the worker builds it (htmx polls the status fragment), then
downloads it; the PDF holds last year's payment and the psychotherapy part."""

import io
import re
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from billing import services
from billing.models import StatementJob
from billing.tasks import statements_build
from billing.templatetags.billing_tags import money
from billing.tests.factories import billing_ready, billing_staff, held, team
from clinic.models import AppointmentKind

from .test_browser_billing import no_serious_violations, signed_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = {
    "en": {
        "statements": "Year-end statements",
        "ask": "Prepare my statement",
        "title": "Year-end statement of payments",
        "psychotherapy": "Psychotherapy services",
    },
    "fr": {
        "statements": "Relevés annuels",
        "ask": "Préparer mon relevé",
        "title": "Relevé annuel des paiements",
        "psychotherapy": "Services de psychothérapie",
    },
}


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_client_asks_for_last_years_statement_sees_its_progress_and_downloads_it(
    live_server, browser, clinic_qc, client_a, coordinator, language
):
    text = TEXT[language]
    billing_ready(clinic_qc)
    therapist, physician = team(clinic_qc)
    biller = billing_staff(coordinator)
    client_a.user.preferred_language = language
    client_a.user.save()
    last_year = date.today().year - 1  # noqa: DTZ011 (a date well inside the year)
    start = datetime(last_year, 6, 3, 10, 0, tzinfo=ZoneInfo(clinic_qc.time_zone))
    dosing = held(
        client=client_a,
        kind=AppointmentKind.DOSING_SESSION,
        start=start,
        staff=[therapist, physician],
        minutes=180,
    )
    invoice = services.invoice_draft(client=client_a, appointments=[dosing], actor=biller)
    services.invoice_issue(invoice=invoice, actor=biller, today=start.date() + timedelta(days=1))
    services.payment_record(
        invoice=invoice,
        method="card",
        amount=invoice.total,
        received_on=start.date() + timedelta(days=2),
        reference="",
        submission=uuid.uuid4(),
        actor=biller,
    )
    context, portal = signed_in(browser, live_server, client_a.user, language, staff=False)
    try:
        portal.goto(live_server.url + "/portal/billing/")
        portal.get_by_role("link", name=text["statements"]).click()
        expect(portal.locator("html")).to_have_attribute("lang", language)
        expect(portal.locator("#id_year")).to_have_value(str(last_year))
        portal.get_by_test_id("ask-statement").click()

        # The job waits for the worker: the page shows its progress.
        job = portal.get_by_test_id("statement-job")
        expect(job).to_have_attribute("data-status", "pending")
        expect(portal.get_by_test_id("job-progress")).to_have_attribute("value", "0")
        no_serious_violations(portal)
        assert StatementJob.objects.get().year == last_year

        # The worker runs; the page's polling shows it ready, with its link.
        assert statements_build() == {"jobs": 1}
        expect(job).to_have_attribute("data-status", "done", timeout=15_000)
        expect(portal.get_by_test_id("job-progress")).to_have_attribute("value", "1")
        with portal.expect_download() as arrival:
            job.get_by_test_id("statement-download").click()
        download = arrival.value
        assert re.fullmatch(rf"statement-{last_year}-{language}\.pdf", download.suggested_filename)
        reader = PdfReader(io.BytesIO(Path(download.path()).read_bytes()))
        content = " ".join(
            " ".join(page.extract_text().replace("\u00a0", " ").split()) for page in reader.pages
        )
        assert f"{text['title']}, {last_year}" in content
        assert text["psychotherapy"] in content
        assert money(invoice.total, language).replace("\u00a0", " ") in content
    finally:
        context.close()
