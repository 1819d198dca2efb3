"""The demo's billing: each clinic's catalogue and settings, its coordinators
in the coordinators' group (billing's permissions), and invoices for the
demo clients' held appointments, some paid in full, some in part, one
credited. Through billing's own services, so the numbers are real; run
again, it adds nothing (a client with an invoice is skipped). Each clinic
also has this year's year-end statements asked for, once: the worker (beat,
`make run`) builds them and the staff page shows them."""

import uuid
from datetime import date
from decimal import Decimal

from django.utils import timezone

from billing import services, statements
from billing.catalogue import catalogue_install, coordinators_may_bill, tax_rates_install
from billing.models import Invoice, StatementJob
from clinic.models import Appointment, AppointmentKind, ClientProfile

CATALOGUE_SINCE = date(2024, 1, 1)


def billing_seed(*, clinics: dict, coordinators: dict) -> int:
    tax_rates_install()
    group = coordinators_may_bill()
    made = 0
    for slug, clinic in clinics.items():
        catalogue_install(clinic=clinic, since=CATALOGUE_SINCE)
        biller = coordinators[slug]
        biller.groups.add(group)
        clients = ClientProfile.objects.filter(clinic=clinic).order_by("user__email")
        n = 0  # the clinic's invoices made in this run: paid, part-paid, credited in turn
        for client in clients:
            if Invoice.objects.filter(client=client).exists():
                continue
            held = list(
                Appointment.objects.filter(
                    client=client, status=Appointment.Status.HELD, billed__isnull=True
                ).exclude(kind=AppointmentKind.INTAKE_CALL)
            )
            if not held:
                continue
            invoice = services.invoice_draft(client=client, appointments=held, actor=biller)
            services.invoice_issue(invoice=invoice, actor=biller)
            made += 1
            n += 1
            today = timezone.localdate(timezone.now(), clinic.zone)
            if n % 3 == 0:
                amount = invoice.total
            elif n % 3 == 1:
                amount = (invoice.total / 2).quantize(Decimal("0.01"))
            else:
                services.credit_note_issue(
                    invoice=invoice, actor=biller, reason="Demo: a session offered by the clinic"
                )
                continue
            services.payment_record(
                invoice=invoice,
                method="transfer" if n % 2 else "card",
                amount=amount,
                received_on=today,
                reference=f"DEMO-{n:03d}",
                submission=uuid.uuid4(),
                actor=biller,
            )
        year = timezone.localdate(timezone.now(), clinic.zone).year
        if not StatementJob.objects.filter(clinic=clinic, client=None, year=year).exists():
            statements.statement_job_request(clinic=clinic, client=None, year=year, actor=biller)
    return made
