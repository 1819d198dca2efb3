"""Billing's reads: the client's invoices and balance in the portal, the staff
list and detail, the estimate, what is ready to invoice. Each owns its
joins, so a page's query count stays the same whatever the data size.

Who may do what is a Django permission (held by the coordinators' group)
and the clinic: billing staff act only on their own clinics' invoices."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.core.paginator import Page, Paginator
from django.db.models import Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from clinic.models import Appointment, ClientProfile, Clinic, User
from clinic.permissions import works_at
from clinic.selectors import client_profile, staff_clinic_ids
from sessions.selectors.prepare import dosing_settings

from .models import CatalogueItem, Component, Invoice, InvoiceLine, Payment
from .services import Balance, catalogue_in_force, items_for_kind

VIEW = "billing.view_invoice"
DRAFT = "billing.add_invoice"
ISSUE = "billing.issue_invoice"
PAY = "billing.record_payment"
BREAKDOWN = "billing.download_breakdown"
PAGE_SIZE = 25


def may(user: User, permission: str, clinic_id: int | None = None) -> bool:
    """Billing staff: the permission (the coordinators' group holds it), at
    the clinic concerned when there is one."""
    if not user.has_perm(permission):
        return False
    return clinic_id is None or works_at(user, clinic_id)


def _documents() -> QuerySet[Invoice]:
    return Invoice.objects.select_related("clinic", "client__user", "credits").prefetch_related(
        Prefetch("lines", queryset=InvoiceLine.objects.order_by("position", "pk")),
        Prefetch("payments", queryset=Payment.objects.order_by("received_on", "pk")),
        Prefetch("credit_notes", queryset=Invoice.objects.filter(status=Invoice.Status.ISSUED)),
    )


def balance_from_prefetched(invoice: Invoice) -> Balance:
    credited = sum((n.total for n in invoice.credit_notes.all()), Decimal("0.00"))
    paid = sum((p.amount for p in invoice.payments.all()), Decimal("0.00"))
    return Balance(total=invoice.total, credited=-credited, paid=paid)


@dataclass
class DocumentView:
    invoice: Invoice
    balance: Balance | None


@dataclass
class ClientBilling:
    client: ClientProfile
    documents: list[DocumentView] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    balance_due: Decimal = Decimal("0.00")


def client_billing(*, user: User) -> ClientBilling | None:
    """The portal's page: the client's issued documents (drafts are the
    clinic's work in progress), their payments and what is left to pay."""
    client = client_profile(user=user)
    if client is None:
        return None
    documents = list(
        _documents()
        .filter(client=client)
        .exclude(status=Invoice.Status.DRAFT)
        .order_by("-issued_on", "-pk")
    )
    page = ClientBilling(client=client)
    for document in documents:
        balance = (
            None
            if document.is_credit_note or document.status == Invoice.Status.VOID
            else balance_from_prefetched(document)
        )
        page.documents.append(DocumentView(document, balance))
        page.payments.extend(document.payments.all())
        if balance is not None:
            page.balance_due += max(balance.due, Decimal("0.00"))
    page.payments.sort(key=lambda p: (p.received_on, p.pk), reverse=True)
    return page


def client_document(*, user: User, invoice_uuid) -> Invoice | None:
    """One of the client's own issued documents; anything else is None (404)."""
    client = client_profile(user=user)
    if client is None:
        return None
    return (
        _documents()
        .filter(client=client, uuid=invoice_uuid)
        .exclude(status=Invoice.Status.DRAFT)
        .first()
    )


def staff_document(*, user: User, invoice_uuid) -> Invoice | None:
    """A document of one of the staff member's clinics; None otherwise (404)."""
    return _documents().filter(uuid=invoice_uuid, clinic_id__in=staff_clinic_ids(user=user)).first()


def staff_invoice_page(*, user: User, page: int | str | None, status: str = "") -> Page:
    """The clinic's documents, newest first, 25 a page."""
    documents = (
        Invoice.objects.filter(clinic_id__in=staff_clinic_ids(user=user))
        .select_related("clinic", "client__user")
        .order_by("-created_at", "-pk")
    )
    if status in Invoice.Status.values:
        documents = documents.filter(status=status)
    return Paginator(documents, PAGE_SIZE).get_page(page)


def billable_appointments(*, user: User, limit: int = 50) -> list[Appointment]:
    """Held appointments of the staff member's clinics not yet on a live
    invoice, oldest first."""
    return list(
        Appointment.objects.filter(
            clinic_id__in=staff_clinic_ids(user=user),
            status=Appointment.Status.HELD,
            client__isnull=False,
            billed__isnull=True,
        )
        .select_related("clinic", "client__user")
        .order_by("start")[:limit]
    )


def billable_of_client(
    *, user: User, client_uuid
) -> tuple[ClientProfile, list[Appointment]] | None:
    client = (
        ClientProfile.objects.filter(uuid=client_uuid, clinic_id__in=staff_clinic_ids(user=user))
        .select_related("clinic", "user")
        .first()
    )
    if client is None:
        return None
    appointments = list(
        Appointment.objects.filter(
            client=client, status=Appointment.Status.HELD, billed__isnull=True
        ).select_related("clinic")
    )
    return client, appointments


def payments_received(invoice: Invoice) -> Decimal:
    return invoice.payments.aggregate(s=Sum("amount"))["s"] or Decimal("0.00")


# --- The estimate -------------------------------------------------------------------------


@dataclass
class EstimateLine:
    item: CatalogueItem
    name: str
    quantity: int
    amount: Decimal


@dataclass
class Estimate:
    clinic: Clinic
    sessions: int
    most_sessions: int
    lines: list[EstimateLine]
    total: Decimal
    on: date
    claimable: Decimal


# The course's appointments, in order, and how many of each (the dosing
# sessions' count is the client's choice; each is followed by an integration session).
PROGRAM = (
    ("medical_assessment", "one"),
    ("preparatory_session", "one"),
    ("dosing_session", "n"),
    ("integration_session", "n"),
)


def estimate(*, clinic: Clinic, sessions: int, language: str, on: date | None = None) -> Estimate:
    """The whole program priced from the catalogue in force today, before
    taxes (the services are exempt or zero-rated when provided as planned)."""
    on = on or timezone.localdate(timezone.now(), clinic.zone)
    most = dosing_settings(clinic).max_series_sessions
    sessions = max(1, min(sessions, most))
    items = catalogue_in_force(clinic=clinic, on=on)
    lines = []
    for kind, count in PROGRAM:
        quantity = sessions if count == "n" else 1
        for item in items_for_kind(items, kind):
            lines.append(EstimateLine(item, item.name(language), quantity, item.price * quantity))
    total = sum((line.amount for line in lines), Decimal("0.00"))
    claimable = sum(
        (line.amount for line in lines if line.item.component == Component.PSYCHOTHERAPY),
        Decimal("0.00"),
    )
    return Estimate(clinic, sessions, most, lines, total, on, claimable)


# --- The breakdown -----------------------------------------------------------------------


@dataclass
class Breakdown:
    invoice: Invoice
    language: str
    psychotherapy: list[InvoiceLine]
    other: list[InvoiceLine]
    psychotherapy_total: Decimal
    other_total: Decimal
    paid: Decimal
    balance: Balance
    taxes: dict[str, Decimal]
    tax_numbers: list[tuple[str, str]]
    paid_by_line: dict[int, Decimal]


def breakdown(*, invoice: Invoice, language: str) -> Breakdown:
    """The insurer's document: psychotherapy (the part usually claimable)
    apart from the medical, medication and other lines; what was paid,
    spread over the lines in order (a partial payment pays the first lines first)."""
    from .models import ClinicBilling

    lines = list(invoice.lines.all())
    balance = balance_from_prefetched(invoice)
    left = balance.paid
    paid_by_line: dict[int, Decimal] = {}
    for line in lines:
        share = min(max(left, Decimal("0.00")), line.total)
        paid_by_line[line.pk] = share
        left -= share
    psychotherapy = [line for line in lines if line.component == Component.PSYCHOTHERAPY]
    other = [line for line in lines if line.component != Component.PSYCHOTHERAPY]
    taxes: dict[str, Decimal] = {}
    for line in lines:
        for name, value in line.taxes.items():
            taxes[name] = taxes.get(name, Decimal("0.00")) + Decimal(value)
    settings = ClinicBilling.objects.filter(clinic=invoice.clinic).first()
    numbers: list[tuple[str, str]] = []
    if settings is not None and any(v for v in taxes.values()):
        charged = set(taxes)
        if charged & {"GST", "HST"} and settings.gst_number:
            numbers.append(("GST/HST", settings.gst_number))
        if "QST" in charged and settings.qst_number:
            numbers.append(("QST", settings.qst_number))
        if "PST" in charged and settings.pst_number:
            numbers.append(("PST", settings.pst_number))
    return Breakdown(
        invoice=invoice,
        language=language,
        psychotherapy=psychotherapy,
        other=other,
        psychotherapy_total=sum((line.total for line in psychotherapy), Decimal("0.00")),
        other_total=sum((line.total for line in other), Decimal("0.00")),
        paid=balance.paid,
        balance=balance,
        taxes=taxes,
        tax_numbers=numbers,
        paid_by_line=paid_by_line,
    )


def clinic_billing_settings(clinic: Clinic):
    from .models import ClinicBilling

    return ClinicBilling.objects.filter(clinic=clinic).first()


def overdue_filter() -> Q:
    return Q(status=Invoice.Status.ISSUED, due_on__lt=timezone.localdate())


# --- Year-end statements -------------------------------------------------------------------

STATEMENTS = "billing.build_statements"
JOBS_PAGE_SIZE = 20


class NotFound(Exception):
    """A clinic or client the staff member does not have (a 404)."""


def _statements() -> QuerySet:
    from .models import Statement

    # The PDFs stay in the database until one is downloaded.
    return Statement.objects.defer("pdf_en", "pdf_fr").select_related("client__user")


@dataclass
class ClientStatements:
    client: ClientProfile
    statements: list
    jobs: list


def client_statements(*, client: ClientProfile) -> ClientStatements:
    """The portal's page: the client's ready statements (one a year) and the
    jobs still running or just finished (the last five)."""
    from .models import StatementJob

    statements = list(_statements().filter(client=client).order_by("-year"))
    by_year = {statement.year: statement for statement in statements}
    jobs = list(StatementJob.objects.filter(client=client).order_by("-created_at", "-pk")[:5])
    for job in jobs:
        job.statement = by_year.get(job.year)
    return ClientStatements(client=client, statements=statements, jobs=jobs)


def client_statement_job(*, client: ClientProfile | None, job_uuid):
    from .models import StatementJob

    if client is None:
        return None
    job = StatementJob.objects.filter(client=client, uuid=job_uuid).first()
    if job is not None:
        job.statement = _statements().filter(client=client, year=job.year).first()
    return job


def client_statement(*, client: ClientProfile | None, statement_uuid):
    from .models import Statement

    if client is None:
        return None
    return (
        Statement.objects.select_related("client__user")
        .filter(client=client, uuid=statement_uuid)
        .first()
    )


def statement_clinics(*, user: User) -> list[Clinic]:
    return list(Clinic.objects.filter(pk__in=staff_clinic_ids(user=user)).order_by("name"))


def statement_target(*, user: User, clinic_id, client_uuid) -> tuple[Clinic, ClientProfile | None]:
    """The clinic (and client, when one is named) a staff member asks
    statements for; NotFound when either is not theirs (or not an id)."""
    import uuid as uuid_module

    ids = staff_clinic_ids(user=user)
    if client_uuid:
        try:
            key = uuid_module.UUID(str(client_uuid))
        except ValueError:
            raise NotFound from None
        client = (
            ClientProfile.objects.filter(uuid=key, clinic_id__in=ids)
            .select_related("clinic", "user")
            .first()
        )
        if client is None:
            raise NotFound
        return client.clinic, client
    try:
        pk = int(str(clinic_id))
    except ValueError:
        raise NotFound from None
    clinic = Clinic.objects.filter(pk=pk, pk__in=ids).first()
    if clinic is None:
        raise NotFound
    return clinic, None


def staff_statement_jobs(*, user: User, page) -> Page:
    from .models import StatementJob

    jobs = (
        StatementJob.objects.filter(clinic_id__in=staff_clinic_ids(user=user))
        .select_related("clinic", "client__user")
        .order_by("-created_at", "-pk")
    )
    return Paginator(jobs, JOBS_PAGE_SIZE).get_page(page)


def staff_statement_job(*, user: User, job_uuid):
    from .models import StatementJob

    job = (
        StatementJob.objects.filter(uuid=job_uuid, clinic_id__in=staff_clinic_ids(user=user))
        .select_related("clinic", "client__user")
        .first()
    )
    if job is not None:
        job.statement = None
        if job.client_id is not None:
            job.statement = _statements().filter(client_id=job.client_id, year=job.year).first()
    return job


def job_statements(*, job, page) -> Page:
    """The statements a job built, by client, 25 a page."""
    statements = _statements().filter(job=job).order_by("client__user__last_name", "pk")
    return Paginator(statements, PAGE_SIZE).get_page(page)


def staff_statement(*, user: User, statement_uuid):
    from .models import Statement

    return (
        Statement.objects.select_related("client__user")
        .filter(uuid=statement_uuid, clinic_id__in=staff_clinic_ids(user=user))
        .first()
    )
