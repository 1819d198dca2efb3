"""Year-end statements: what a client paid in a calendar year, by service and
provider, psychotherapy apart (the part insurers usually reimburse and the
medical-expense tax credit asks about).

A request only writes a StatementJob row (`statement_job_request`); the
worker's task (`billing.tasks.statements_build`, run by beat) claims pending
jobs with SKIP LOCKED and builds each client's statement in both languages
(`statement_jobs_run`), counting its progress on the row as it goes.

What a payment paid is spread over its invoice's lines in order, as the
breakdown does (a partial payment pays the first lines first): a line is
counted in a year for the part of it that the year's payments covered, so a
year's rows always add up to the payments received in that year."""

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, Min, Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from clinic.models import ClientProfile, Clinic, Language, User

from . import pdf
from .models import (
    CatalogueItem,
    Component,
    Invoice,
    InvoiceLine,
    Payment,
    Statement,
    StatementJob,
)

logger = logging.getLogger(__name__)
ZERO = Decimal("0.00")
# A running job gives a sign of life (its started_at moves on) after each
# statement; one silent this long was left by a worker that died (a
# statement takes about a second): the next run takes it over.
STALE = timedelta(minutes=30)


class StatementError(Exception):
    """A request refused, with a message for the person who made it."""


# --- The years one may ask for -------------------------------------------------------------


def first_year(clinic: Clinic) -> int:
    """The year the clinic started billing (its first catalogue price)."""
    first = CatalogueItem.objects.filter(clinic=clinic).aggregate(d=Min("effective_from"))["d"]
    return first.year if first else timezone.localdate(timezone.now(), clinic.zone).year


def statement_years(clinic: Clinic, *, today: date | None = None) -> list[int]:
    """From this year back to the clinic's first, newest first."""
    today = today or timezone.localdate(timezone.now(), clinic.zone)
    return list(range(today.year, first_year(clinic) - 1, -1))


def year_parse(clinic: Clinic, raw, *, today: date | None = None) -> int:
    try:
        year = int(str(raw).strip())
    except (TypeError, ValueError):
        raise StatementError(_("Choose a year from the list.")) from None
    today = today or timezone.localdate(timezone.now(), clinic.zone)
    if year > today.year:
        raise StatementError(_("A statement is for a year that has begun: choose an earlier year."))
    if year < first_year(clinic):
        raise StatementError(
            _("The clinic has no payments before %(year)s: choose a later year.")
            % {"year": first_year(clinic)}
        )
    return year


# --- Requests: the job row only -------------------------------------------------------------


def _active_job(*, clinic: Clinic, client: ClientProfile | None, year: int):
    return StatementJob.objects.filter(
        clinic=clinic, client=client, year=year, status__in=StatementJob.ACTIVE
    ).first()


def statement_job_request(
    *, clinic: Clinic, client: ClientProfile | None, year: int, actor: User
) -> tuple[StatementJob, bool]:
    """The job building this year's statement of one client (or of every
    client of the clinic, client None): the one already waiting or running,
    else a new one. Two requests at once make one job (the partial unique
    constraint; the loser reads the winner's row)."""
    if client is not None and client.clinic_id != clinic.pk:
        raise StatementError(_("This client is not a client of this clinic."))
    job = _active_job(clinic=clinic, client=client, year=year)
    if job is not None:
        return job, False
    try:
        with transaction.atomic():
            job = StatementJob.objects.create(
                clinic=clinic,
                client=client,
                year=year,
                requested_by=actor,
                total=1 if client is not None else 0,
            )
    except IntegrityError:
        job = _active_job(clinic=clinic, client=client, year=year)
        if job is None:  # it finished in between: ask again
            raise StatementError(_("Please try again.")) from None
        return job, False
    return job, True


# --- The statement's content ----------------------------------------------------------------


@dataclass
class StatementRow:
    service: str
    provider_name: str
    provider_profession: str
    provider_registration: str
    services: int = 0
    paid: Decimal = ZERO
    first_date: date | None = None
    last_date: date | None = None


@dataclass
class StatementContent:
    clinic: Clinic
    client: ClientProfile
    year: int
    language: str
    psychotherapy: list[StatementRow] = field(default_factory=list)
    other: list[StatementRow] = field(default_factory=list)
    receipts: list[Payment] = field(default_factory=list)
    psychotherapy_total: Decimal = ZERO
    other_total: Decimal = ZERO
    total: Decimal = ZERO


def statement_content(*, client: ClientProfile, year: int, language: str) -> StatementContent:
    """The year's payments of the client, spread over their invoices' lines
    and summed by service and provider (four queries)."""
    start, end = date(year, 1, 1), date(year + 1, 1, 1)
    invoices = (
        Invoice.objects.filter(
            client=client,
            kind=Invoice.Kind.INVOICE,
            payments__received_on__gte=start,
            payments__received_on__lt=end,
        )
        .distinct()
        .order_by("issued_on", "pk")
        .prefetch_related(
            Prefetch("lines", queryset=InvoiceLine.objects.order_by("position", "pk")),
            Prefetch("payments", queryset=Payment.objects.order_by("received_on", "pk")),
        )
    )
    content = StatementContent(client.clinic, client, year, language)
    rows: dict[tuple, StatementRow] = {}
    for invoice in invoices:
        before = sum((p.amount for p in invoice.payments.all() if p.received_on < start), ZERO)
        during = [p for p in invoice.payments.all() if start <= p.received_on < end]
        upto = before + sum((p.amount for p in during), ZERO)
        content.receipts.extend(during)
        covered = ZERO
        for line in invoice.lines.all():
            low, high = covered, covered + line.total
            covered = high
            share = max(ZERO, min(high, upto) - max(low, before))
            if share <= 0:
                continue
            psychotherapy = line.component == Component.PSYCHOTHERAPY
            key = (
                psychotherapy,
                line.code,
                line.provider_name,
                line.provider_profession,
                line.provider_registration,
            )
            row = rows.get(key)
            if row is None:
                row = rows[key] = StatementRow(
                    line.description(language),
                    line.provider_name,
                    line.provider_profession,
                    line.provider_registration,
                )
                (content.psychotherapy if psychotherapy else content.other).append(row)
            row.services += 1
            row.paid += share
            row.first_date = min(filter(None, (row.first_date, line.service_date)))
            row.last_date = max(filter(None, (row.last_date, line.service_date)))
    content.receipts.sort(key=lambda p: (p.received_on, p.pk))
    content.psychotherapy_total = sum((r.paid for r in content.psychotherapy), ZERO)
    content.other_total = sum((r.paid for r in content.other), ZERO)
    content.total = sum((p.amount for p in content.receipts), ZERO)
    return content


def statement_pdf(content: StatementContent, settings) -> bytes:
    return pdf.render(
        "billing/pdf/statement.html",
        {"s": content, "settings": settings},
        language=content.language,
    )[1]


def statement_build(
    *, client: ClientProfile, year: int, job: StatementJob | None = None
) -> Statement:
    """One client's statement in English and French, kept (replacing an
    earlier build of the same year)."""
    from .selectors import clinic_billing_settings

    settings = clinic_billing_settings(client.clinic)
    pdfs = {}
    total = ZERO
    for language in Language.values:
        content = statement_content(client=client, year=year, language=language)
        pdfs[language] = statement_pdf(content, settings)
        total = content.total
    statement, _created = Statement.objects.update_or_create(
        client=client,
        year=year,
        defaults={
            "clinic": client.clinic,
            "job": job,
            "total_paid": total,
            "pdf_en": pdfs["en"],
            "pdf_fr": pdfs["fr"],
            "built_at": timezone.now(),
        },
    )
    return statement


# --- The worker -----------------------------------------------------------------------------


def _clients_of(job: StatementJob) -> list[ClientProfile]:
    if job.client_id is not None:
        return [ClientProfile.objects.select_related("clinic", "user").get(pk=job.client_id)]
    start, end = date(job.year, 1, 1), date(job.year + 1, 1, 1)
    return list(
        ClientProfile.objects.filter(
            clinic=job.clinic,
            invoices__payments__received_on__gte=start,
            invoices__payments__received_on__lt=end,
        )
        .distinct()
        .select_related("clinic", "user")
        .order_by("pk")
    )


def statement_job_claim(*, now=None) -> StatementJob | None:
    """The oldest waiting job (or one left running by a worker that died,
    STALE after it started), marked running; None when there is none. Two
    workers never take the same job (SKIP LOCKED, then a conditional update)."""
    now = now or timezone.now()
    claimable = Q(status=StatementJob.Status.PENDING) | Q(
        status=StatementJob.Status.RUNNING, started_at__lt=now - STALE
    )
    with transaction.atomic():
        job = (
            StatementJob.objects.select_for_update(skip_locked=True)
            .filter(claimable)
            .order_by("created_at", "pk")
            .first()
        )
        if job is None:
            return None
        claimed = StatementJob.objects.filter(claimable, pk=job.pk).update(
            status=StatementJob.Status.RUNNING, started_at=now
        )
        if not claimed:
            return None
    job.refresh_from_db()
    return job


def statement_job_run(*, job: StatementJob) -> StatementJob:
    """Build every statement of a claimed job, counting each one done."""
    # Every write goes through `mine`: the job as this worker last left it.
    # A long job stays alive (started_at moves on with each statement), and
    # a worker whose job was taken over finds nothing to write and stops.
    mine = StatementJob.objects.filter(
        pk=job.pk, status=StatementJob.Status.RUNNING, started_at=job.started_at
    )
    try:
        clients = _clients_of(job)
        mine.update(total=len(clients), done=0)
        for client in clients:
            statement_build(client=client, year=job.year, job=job)
            alive = timezone.now()
            if not mine.update(done=F("done") + 1, started_at=alive):
                break  # taken over by another worker: it carries on
            mine = StatementJob.objects.filter(
                pk=job.pk, status=StatementJob.Status.RUNNING, started_at=alive
            )
    except Exception as exc:
        logger.exception("year-end statement job %s failed", job.pk)
        mine.update(
            status=StatementJob.Status.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
        )
    else:
        mine.update(status=StatementJob.Status.DONE, finished_at=timezone.now())
    job.refresh_from_db()
    return job


def statement_jobs_run(*, limit: int = 20) -> int:
    """The worker's loop: claim and run waiting jobs, at most `limit`."""
    ran = 0
    while ran < limit:
        job = statement_job_claim()
        if job is None:
            break
        statement_job_run(job=job)
        ran += 1
    return ran
