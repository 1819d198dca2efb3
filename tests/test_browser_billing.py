"""Billing in a real browser, in English and in French: the client sees the
estimate change with the number of sessions, then an invoice; the
coordinator drafts and issues it and records the payment; the client sees
the balance paid and downloads the insurer's breakdown from the portal."""

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from axe_playwright_python.sync_playwright import Axe
from django.test import Client
from django.utils import timezone, translation
from playwright.sync_api import expect
from pypdf import PdfReader

from billing.models import Invoice, Payment
from billing.tests.factories import billing_ready, billing_staff, held, team
from clinic.models import AppointmentKind
from clinic.signals import MFA_ACTIVATED_SESSION_KEY

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = {
    "en": {
        "billing": "Invoices, payments and cost estimate",
        "estimate": "Estimate the cost of the whole program",
        "to_invoice": "Appointments to invoice",
        "draft": "Draft an invoice for this client",
        "issue": "Issue",
        "amount": "Amount (CAD)",
        "record": "Record the payment",
        "recorded": "The payment is recorded.",
        "download": "Download the breakdown (PDF)",
        "paid": "Balance due: $0.00",
        "three": "$3,290.00",
        "psychotherapy": "Psychotherapy services",
    },
    "fr": {
        "billing": "Factures, paiements et estimation des coûts",
        "estimate": "Estimer le coût de l’ensemble du programme",
        "to_invoice": "Rendez-vous à facturer",
        "draft": "Préparer une facture pour ce client",
        "issue": "Émettre",
        "amount": "Montant (CAD)",
        "record": "Enregistrer le paiement",
        "recorded": "Le paiement est enregistré.",
        "download": "Télécharger la ventilation (PDF)",
        "paid": "Solde dû\u00a0: 0,00\u00a0$",
        "three": "3\u00a0290,00\u00a0$",
        "psychotherapy": "Services de psychothérapie",
    },
}


def signed_in(browser, live_server, user, locale, *, staff):
    if staff:
        TOTP.activate(user, generate_totp_secret())
    django_client = Client()
    django_client.force_login(user)
    if staff:
        session = django_client.session
        session[MFA_ACTIVATED_SESSION_KEY] = True
        session.save()
    context = browser.new_context(locale=f"{locale}-CA", accept_downloads=True)
    context.add_cookies(
        [
            {
                "name": "sessionid",
                "value": django_client.cookies["sessionid"].value,
                "url": live_server.url,
            }
        ]
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    return context, page


def no_serious_violations(page):
    results = Axe().run(page)
    serious = [
        v["id"] for v in results.response["violations"] if v["impact"] in ("serious", "critical")
    ]
    assert not serious, serious


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_client_sees_the_estimate_then_pays_an_invoice_and_downloads_the_breakdown(
    live_server, browser, clinic_qc, client_a, coordinator, language
):
    text = TEXT[language]
    billing_ready(clinic_qc)
    therapist, physician = team(clinic_qc)
    biller = billing_staff(coordinator)
    for person in (client_a.user, biller):
        person.preferred_language = language
        person.save()
    held(
        client=client_a,
        kind=AppointmentKind.DOSING_SESSION,
        start=timezone.now().replace(microsecond=0) - timedelta(days=7),
        staff=[therapist, physician],
        minutes=180,
    )
    client_context, portal = signed_in(browser, live_server, client_a.user, language, staff=False)
    staff_context, desk = signed_in(browser, live_server, biller, language, staff=True)
    try:
        # The estimate, from the portal's home; three sessions change the total.
        portal.goto(live_server.url + "/portal/")
        portal.get_by_role("link", name=text["billing"]).click()
        portal.get_by_role("link", name=text["estimate"]).click()
        expect(portal.locator("html")).to_have_attribute("lang", language)
        portal.get_by_test_id("sessions").select_option("3")
        expect(portal.get_by_test_id("estimate-total")).to_have_text(text["three"])
        no_serious_violations(portal)

        # The coordinator drafts the invoice of the held session and issues it.
        desk.goto(live_server.url + "/staff/billing/")
        desk.get_by_role("link", name=text["to_invoice"]).click()
        desk.get_by_role("button", name=text["draft"]).click()
        desk.get_by_test_id("issue").click()
        invoice = Invoice.objects.get()
        with translation.override(language):
            issued = str(invoice.get_status_display())
        expect(desk.get_by_test_id("invoice-status")).to_contain_text(issued)
        assert invoice.status == "issued"

        # The client sees it, with its balance.
        portal.goto(live_server.url + "/portal/billing/")
        expect(portal.get_by_test_id("invoices")).to_contain_text(invoice.number)
        no_serious_violations(portal)

        # The coordinator records the payment of the whole balance.
        amount = f"{invoice.total}".replace(".", "," if language == "fr" else ".")
        desk.get_by_label(text["amount"]).fill(amount)
        desk.get_by_role("button", name=text["record"]).click()
        expect(desk.get_by_text(text["recorded"])).to_be_visible()
        no_serious_violations(desk)
        payment = Payment.objects.get()
        assert payment.amount == invoice.total

        # The client: paid, and the breakdown as a file.
        portal.goto(live_server.url + "/portal/billing/")
        expect(portal.get_by_test_id("balance-due")).to_have_text(text["paid"])
        portal.get_by_role("link", name=invoice.number).click()
        with portal.expect_download() as arrival:
            portal.get_by_test_id("breakdown-download").click()
        download = arrival.value
        assert re.fullmatch(
            rf"breakdown-{invoice.number}-{language}\.pdf", download.suggested_filename
        )
        reader = PdfReader(io.BytesIO(Path(download.path()).read_bytes()))
        content = " ".join(page.extract_text() for page in reader.pages)
        assert invoice.number in content and payment.receipt_number in content
        assert text["psychotherapy"] in content
    finally:
        client_context.close()
        staff_context.close()
