"""Billing as the benchmark measures it: the breakdown PDF's first render
against WeasyPrint's bare render of the same HTML, its queries the same for
an invoice of one appointment and of ten; and seed_scale's invoices, which
the staff invoice list's row reads."""

import io

from django.core.management import call_command

from bench.run import bench_pdf
from billing.models import Invoice, InvoiceLine
from clinic.models import Clinic, StaffProfile, StaffRole


def test_the_pdf_row_renders_both_ways_with_a_fixed_query_count(db):
    result = bench_pdf(rounds=1)
    assert result["lines"] == 40
    assert result["queries_1"] == result["queries_10"]
    assert result["first_ms"] > 0 and result["bare_ms"] > 0
    print(f"PDF first render {result['first_ms']:.0f} ms, bare {result['bare_ms']:.0f} ms")


def test_seed_scale_issues_an_invoice_per_client_with_held_appointments(db, staff_login):
    call_command("seed_scale", clients=40, appointments_per_client=4, stdout=io.StringIO())
    clinic = Clinic.objects.filter(slug__startswith="scale-").order_by("pk").first()
    invoices = Invoice.objects.filter(clinic=clinic)
    assert invoices.exists() and not invoices.filter(number="").exists()
    numbers = sorted(int(n.rsplit("-", 1)[1]) for n in invoices.values_list("number", flat=True))
    assert numbers == list(range(1, len(numbers) + 1))
    assert InvoiceLine.objects.filter(invoice__clinic=clinic).exists()
    from billing.models import StatementJob

    assert StatementJob.objects.filter(clinic=clinic, client=None).count() == 1
    for invoice in invoices.prefetch_related("lines"):
        lines = list(invoice.lines.all())
        assert invoice.total == sum(line.amount + line.tax_amount for line in lines)
    from billing.catalogue import coordinators_may_bill

    coordinator = StaffProfile.objects.filter(clinics=clinic, role=StaffRole.COORDINATOR).first()
    coordinator.user.groups.add(coordinators_may_bill())
    page = staff_login(coordinator.user).get("/staff/billing/")
    assert page.status_code == 200
    assert invoices.order_by("-created_at").first().number in page.content.decode()


def test_the_statement_requests_row_opens_for_the_coordinator(
    db, staff_login, clinic_qc, coordinator
):
    from bench.run import PAGES
    from billing.tests.factories import billing_ready, billing_staff

    (row,) = [page for page in PAGES if page[1] == "/staff/billing/statements/"]
    assert row[2] == "coordinator"
    billing_ready(clinic_qc)
    page = staff_login(billing_staff(coordinator)).get(row[1])
    assert page.status_code == 200
