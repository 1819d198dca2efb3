"""The insurer's cost breakdown, read back from the PDF in both languages:
psychotherapy apart, providers' registration numbers, the receipt number,
the clinic's tax numbers (tax was charged) and totals equal to the invoice.
And the fetcher: only the app's own static files, nothing else."""

import io
import uuid
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from pypdf import PdfReader

from billing import pdf, services
from billing.templatetags.billing_tags import money
from billing.views import breakdown_pdf
from clinic.models import AppointmentKind

from .factories import held

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid_invoice(client_a, qc_team, biller, june):
    from datetime import timedelta

    therapist, physician = qc_team
    client_a.date_of_birth = date(1985, 4, 12)
    client_a.save()
    user = client_a.user
    user.first_name, user.last_name = "Alex", "Tremblay"
    user.save()
    dosing = held(
        client=client_a,
        kind=AppointmentKind.DOSING_SESSION,
        start=june,
        staff=[therapist, physician],
        minutes=180,
    )
    integration = held(
        client=client_a,
        kind=AppointmentKind.INTEGRATION_SESSION,
        start=june + timedelta(days=1),
        staff=[therapist],
    )
    invoice = services.invoice_draft(
        client=client_a, appointments=[dosing, integration], actor=biller
    )
    services.invoice_issue(invoice=invoice, actor=biller, today=date(2026, 6, 10))
    with time_machine.travel(date(2026, 6, 12), tick=False):
        services.payment_record(
            invoice=invoice,
            method="card",
            amount=Decimal("300.00"),
            received_on=date(2026, 6, 11),
            reference="",
            submission=uuid.uuid4(),
            actor=biller,
        )
    from billing.selectors import _documents

    return _documents().get(pk=invoice.pk)


def text_of(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def flat(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split())


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_breakdown_shows_what_an_insurer_needs_in_each_language(paid_invoice, language):
    content = breakdown_pdf(paid_invoice, language)
    assert content.startswith(b"%PDF-")
    text = flat(text_of(content))
    receipt = paid_invoice.payments.get().receipt_number
    for expected in (
        paid_invoice.number,
        receipt,
        "Alex Tremblay",
        "1985-04-12",
        "OPQ-PSY-4521",
        "CMQ-88123",
        "123456789 RT0001",  # GST: the room is taxable, so the numbers are printed
        "1234567890 TQ0001",
        flat(money(paid_invoice.total, language)),
        flat(money(Decimal("300.00"), language)),
    ):
        assert expected in text, expected
    psychotherapy, rest = (
        ("Psychotherapy services", "Medical, medication and other services")
        if language == "en"
        else ("Services de psychothérapie", "Services médicaux, médicaments et autres services")
    )
    assert psychotherapy in text and rest in text
    # The psychotherapy lines sit in their own part, before the medical ones.
    start, end = text.index(psychotherapy), text.index(rest)
    part = text[start:end]
    assert ("Integration psychotherapy session" if language == "en" else "intégration") in part
    assert ("medical supervision" if language == "en" else "supervision médicale") not in part
    assert flat(money(Decimal("540.00"), language)) in part  # 360 + 180, exempt


def test_the_breakdown_is_tagged_with_its_title_and_language(paid_invoice):
    reader = PdfReader(io.BytesIO(breakdown_pdf(paid_invoice, "fr")))
    root = reader.trailer["/Root"]
    assert root["/Lang"].startswith("fr")
    assert "/StructTreeRoot" in root
    assert paid_invoice.number in reader.metadata.title


def test_no_tax_numbers_when_no_tax_is_charged(client_a, qc_team, biller, june):
    appointment = held(client=client_a, start=june, staff=[qc_team[0]])
    invoice = services.invoice_draft(client=client_a, appointments=[appointment], actor=biller)
    services.invoice_issue(invoice=invoice, actor=biller, today=date(2026, 6, 10))
    from billing.selectors import _documents

    text = flat(text_of(breakdown_pdf(_documents().get(pk=invoice.pk), "en")))
    assert "RT0001" not in text and "TQ0001" not in text


def test_the_fetcher_serves_the_apps_fonts_and_refuses_everything_else():
    fetcher = pdf.StaticOnlyFetcher()
    font = fetcher.fetch(pdf.BASE_URL + "fonts/DejaVuSans.ttf")
    assert font.read(4) == b"\x00\x01\x00\x00"
    for url in (
        "http://127.0.0.1:8000/admin/",
        "https://example.com/logo.png",
        "file:///etc/passwd",
        pdf.BASE_URL + "../../models.py",
        pdf.BASE_URL + "fonts/%2e%2e/%2e%2e/%2e%2e/settings.py",
        "data:text/plain,hello",
        "ftp://example.com/x",
    ):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    assert len(fetcher.refused) == 7


def test_a_document_asking_for_an_outside_url_renders_without_it():
    fetcher = pdf.StaticOnlyFetcher()
    from weasyprint import HTML

    HTML(
        string='<html lang="en"><title>t</title><img src="http://example.com/x.png">'
        '<link rel="stylesheet" href="file:///etc/passwd"><p>hello</p></html>',
        base_url=pdf.BASE_URL,
        url_fetcher=fetcher,
    ).write_pdf(pdf_variant=pdf.PDF_VARIANT)
    assert sorted(fetcher.refused) == ["file:///etc/passwd", "http://example.com/x.png"]


def test_a_pdf_is_rendered_once_per_version_of_its_invoice(paid_invoice, biller, monkeypatch):
    calls = []
    real = pdf.html_to_pdf
    monkeypatch.setattr(pdf, "html_to_pdf", lambda html: calls.append(1) or real(html))
    breakdown_pdf(paid_invoice, "en")
    breakdown_pdf(paid_invoice, "en")
    assert len(calls) == 1
    paid_invoice.refresh_from_db()
    with time_machine.travel(date(2026, 6, 12), tick=False):
        services.payment_record(
            invoice=paid_invoice,
            method="cash",
            amount=Decimal("1.00"),
            received_on=date(2026, 6, 11),
            reference="",
            submission=uuid.uuid4(),
            actor=biller,
        )
    paid_invoice.refresh_from_db()
    breakdown_pdf(paid_invoice, "en")
    assert len(calls) == 2
