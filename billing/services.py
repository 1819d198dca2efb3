"""Billing's writes: draft an invoice from held appointments, issue it (its
number taken under a lock), void it, credit it, record a payment.

Every change of status is a conditional update on the current status, so
two people acting at once cannot both succeed; the number series is a row
locked inside the issuing transaction, so numbers are sequential and a
failed issue gives its number back (gap-free)."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from clinic.models import Appointment, AppointmentKind, ClientProfile, Clinic, StaffRole, User

from . import taxes
from .models import (
    MAX_AMOUNT,
    BilledAppointment,
    CatalogueItem,
    ClinicBilling,
    Component,
    Counter,
    Invoice,
    InvoiceLine,
    Payment,
    TaxRate,
)


class BillingError(Exception):
    """A refusal a person can read (and a test can assert on)."""


def NOT_HELD():  # noqa: N802  (messages are built in the person's language when raised)
    return _("Only an appointment that took place can be invoiced.")


def ALREADY_INVOICED():  # noqa: N802
    return _("This appointment is already on an invoice.")


def NOT_DRAFT():  # noqa: N802
    return _("Only a draft can be issued: this invoice has been issued or voided already.")


def EMPTY():  # noqa: N802
    return _("An invoice needs at least one line.")


def NO_CATALOGUE():  # noqa: N802
    return _("The catalogue has no price in force for this appointment.")


def PAYMENT_TOO_LARGE():  # noqa: N802
    return _("The amount is larger than the balance due.")


def PAYMENT_NOT_ISSUED():  # noqa: N802
    return _("Payments are recorded only on an issued invoice with a balance due.")


def BAD_AMOUNT():  # noqa: N802
    return _("Enter an amount above zero with at most two decimals.")


def BAD_DATE():  # noqa: N802
    return _("The date cannot be in the future or before the invoice was issued.")


def CANNOT_VOID():  # noqa: N802
    return _("Only a draft, or an issued invoice with no payment, can be voided.")


def CANNOT_CREDIT():  # noqa: N802
    return _("Only an issued or paid invoice with something left to credit can be credited.")


def NOT_SET_UP():  # noqa: N802
    return _("This clinic's billing settings are missing (numbering prefix, legal name).")


# Which of an appointment's people provided which part of the service.
PROVIDER_ROLE: dict[str, str] = {
    Component.PSYCHOTHERAPY: StaffRole.THERAPIST,
    Component.MEDICAL: StaffRole.MEDICAL_PRACTITIONER,
    Component.MEDICATION: StaffRole.MEDICAL_PRACTITIONER,
}


def catalogue_in_force(*, clinic: Clinic, on: date) -> list[CatalogueItem]:
    return [
        item
        for item in CatalogueItem.objects.filter(clinic=clinic, effective_from__lte=on).order_by(
            "estimate_order", "code", "-effective_from"
        )
        if item.effective_until is None or on < item.effective_until
    ]


def items_for_kind(items: Sequence[CatalogueItem], kind: str) -> list[CatalogueItem]:
    """The newest row in force of each code billed for this appointment kind."""
    seen: dict[str, CatalogueItem] = {}
    for item in items:
        if item.appointment_kind == kind and item.code not in seen:
            seen[item.code] = item
    return list(seen.values())


def _provider(appointment: Appointment, component: str, people: list[User]):
    role = PROVIDER_ROLE.get(component)
    profiles = [u.staff_profile for u in people if hasattr(u, "staff_profile")]
    chosen = next((p for p in profiles if p.role == role), None) if role else None
    if chosen is None and role is not None:
        chosen = next((p for p in profiles if p.is_clinician), None)
    return chosen


def _line_from(
    *, item: CatalogueItem, appointment: Appointment, people: list[User], province, rates, position
) -> InvoiceLine:
    day = timezone.localdate(appointment.start, appointment.clinic.zone)
    provider = _provider(appointment, item.component, people)
    registration = provider.registration_number if provider else ""
    computed = taxes.line_taxes(
        amount=item.price,
        treatment=item.tax_treatment,
        province=province,
        service_date=day,
        provider_registration=registration,
        rates=rates,
    )
    return InvoiceLine(
        position=position,
        appointment=appointment,
        item=item,
        code=item.code,
        description_en=item.name_en,
        description_fr=item.name_fr,
        component=item.component,
        tax_treatment=item.tax_treatment,
        service_date=day,
        duration_minutes=int((appointment.end - appointment.start).total_seconds() // 60),
        provider_name=provider.user.get_full_name() if provider else "",
        provider_profession=provider.profession if provider else "",
        provider_registration=registration,
        quantity=1,
        unit_price=item.price,
        amount=item.price,
        taxes={k: str(v) for k, v in computed.taxes.items()},
        tax_amount=computed.total,
        exempt=computed.exempt,
    )


def _totals(invoice: Invoice) -> None:
    sums = invoice.lines.aggregate(subtotal=Sum("amount"), tax=Sum("tax_amount"))
    invoice.subtotal = sums["subtotal"] or Decimal("0.00")
    invoice.tax_total = sums["tax"] or Decimal("0.00")
    invoice.total = invoice.subtotal + invoice.tax_total
    invoice.save(update_fields=["subtotal", "tax_total", "total"])


def invoice_draft(
    *, client: ClientProfile, appointments: Sequence[Appointment], actor: User
) -> Invoice:
    """A draft invoice of held appointments, each priced from the catalogue
    in force on the day it took place. An appointment already on a live
    invoice is refused (BilledAppointment's unique row, also under a race)."""
    if not appointments:
        raise BillingError(EMPTY())
    for appointment in appointments:
        if appointment.client_id != client.pk or appointment.clinic_id != client.clinic_id:
            raise BillingError(NOT_HELD())
        if appointment.status != Appointment.Status.HELD:
            raise BillingError(NOT_HELD())
    clinic = client.clinic
    rates = list(TaxRate.objects.filter(province=clinic.province))
    try:
        with transaction.atomic():
            invoice = Invoice(clinic=clinic, client=client, created_by=actor)
            invoice.full_clean()
            invoice.save()
            lines: list[InvoiceLine] = []
            for appointment in sorted(appointments, key=lambda a: a.start):
                BilledAppointment.objects.create(appointment=appointment, invoice=invoice)
                day = timezone.localdate(appointment.start, clinic.zone)
                items = items_for_kind(catalogue_in_force(clinic=clinic, on=day), appointment.kind)
                if not items:
                    raise BillingError(NO_CATALOGUE())
                people = list(
                    User.objects.filter(
                        reservations__appointment=appointment, reservations__staff__isnull=False
                    )
                    .select_related("staff_profile")
                    .distinct()
                )
                for item in items:
                    lines.append(
                        _line_from(
                            item=item,
                            appointment=appointment,
                            people=people,
                            province=clinic.province,
                            rates=rates,
                            position=len(lines),
                        )
                    )
            for line in lines:
                line.invoice = invoice
            InvoiceLine.objects.bulk_create(lines)
            _totals(invoice)
    except IntegrityError as exc:
        raise BillingError(ALREADY_INVOICED()) from exc
    return invoice


def _lock_counter(*, clinic: Clinic, series: str, year: int) -> Counter:
    """The series' row, locked until the transaction ends: the next issuer of
    the same clinic and year waits here. (Created first if missing; two
    creators at once both end up locking the one row.)"""
    Counter.objects.bulk_create(
        [Counter(clinic=clinic, series=series, year=year)], ignore_conflicts=True
    )
    return Counter.objects.select_for_update().get(clinic=clinic, series=series, year=year)


def _after_counter_read() -> None:
    """A seam for the concurrency control test (it waits here for the others)."""


def _next_number(*, clinic: Clinic, series: str, year: int, prefix: str) -> str:
    counter = _lock_counter(clinic=clinic, series=series, year=year)
    _after_counter_read()
    counter.last += 1
    Counter.objects.filter(pk=counter.pk).update(last=counter.last)
    middle = "-R" if series == Counter.Series.RECEIPT else ""
    return f"{prefix}{middle}-{year}-{counter.last:06d}"


def _billing_of(clinic: Clinic) -> ClinicBilling:
    settings = ClinicBilling.objects.filter(clinic=clinic).first()
    if settings is None:
        raise BillingError(NOT_SET_UP())
    return settings


def invoice_issue(*, invoice: Invoice, actor: User, today: date | None = None) -> Invoice:
    """Draft -> issued, with the next number of the clinic's series for the
    year of issue. Nothing about the invoice can change after this."""
    billing = _billing_of(invoice.clinic)
    today = today or timezone.localdate(timezone.now(), invoice.clinic.zone)
    if not invoice.lines.exists():
        raise BillingError(EMPTY())
    with transaction.atomic():
        number = _next_number(
            clinic=invoice.clinic,
            series=Counter.Series.INVOICE,
            year=today.year,
            prefix=billing.prefix,
        )
        updated = Invoice.objects.filter(pk=invoice.pk, status=Invoice.Status.DRAFT).update(
            status=Invoice.Status.ISSUED,
            number=number,
            issued_on=today,
            due_on=today + timedelta(days=billing.payment_terms_days),
            issued_by=actor,
            issued_at=timezone.now(),
            version=F("version") + 1,
        )
        if updated != 1:
            # Rolls the counter back with it: the number is not lost.
            raise BillingError(NOT_DRAFT())
    invoice.refresh_from_db()
    return invoice


def invoice_void(*, invoice: Invoice, actor: User) -> Invoice:
    """A draft, or an issued invoice nobody paid and nothing credited: void.
    An issued one keeps its number (the series has no gaps); its
    appointments may be invoiced again."""
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if locked.is_credit_note or locked.status not in (
            Invoice.Status.DRAFT,
            Invoice.Status.ISSUED,
        ):
            raise BillingError(CANNOT_VOID())
        if locked.payments.exists() or locked.credit_notes.exists():
            raise BillingError(CANNOT_VOID())
        updated = Invoice.objects.filter(pk=locked.pk, status=locked.status).update(
            status=Invoice.Status.VOID, voided_at=timezone.now(), version=F("version") + 1
        )
        if updated != 1:
            raise BillingError(CANNOT_VOID())
        BilledAppointment.objects.filter(invoice=locked).delete()
    invoice.refresh_from_db()
    return invoice


@dataclass(frozen=True)
class Balance:
    total: Decimal
    credited: Decimal
    paid: Decimal

    @property
    def due(self) -> Decimal:
        return self.total - self.credited - self.paid


def balance_of(invoice: Invoice) -> Balance:
    credited = Invoice.objects.filter(
        credits=invoice, kind=Invoice.Kind.CREDIT_NOTE, status=Invoice.Status.ISSUED
    ).aggregate(s=Sum("total"))["s"] or Decimal("0.00")
    paid = invoice.payments.aggregate(s=Sum("amount"))["s"] or Decimal("0.00")
    return Balance(total=invoice.total, credited=-credited, paid=paid)


def _settle_if_paid(invoice: Invoice) -> None:
    if balance_of(invoice).due <= 0:
        Invoice.objects.filter(pk=invoice.pk, status=Invoice.Status.ISSUED).update(
            status=Invoice.Status.PAID, version=F("version") + 1
        )
    else:
        Invoice.objects.filter(pk=invoice.pk).update(version=F("version") + 1)


def credit_note_issue(
    *, invoice: Invoice, actor: User, reason: str, today: date | None = None
) -> Invoice:
    """A credit note for what is left uncredited on an issued (or paid)
    invoice: its lines negated, copied as they were (no re-pricing, no
    re-taxing), numbered in the same series as the invoices."""
    billing = _billing_of(invoice.clinic)
    today = today or timezone.localdate(timezone.now(), invoice.clinic.zone)
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if locked.is_credit_note or locked.status not in (
            Invoice.Status.ISSUED,
            Invoice.Status.PAID,
        ):
            raise BillingError(CANNOT_CREDIT())
        if locked.credit_notes.filter(status=Invoice.Status.ISSUED).exists():
            raise BillingError(CANNOT_CREDIT())
        number = _next_number(
            clinic=locked.clinic,
            series=Counter.Series.INVOICE,
            year=today.year,
            prefix=billing.prefix,
        )
        note = Invoice(
            clinic=locked.clinic,
            client=locked.client,
            kind=Invoice.Kind.CREDIT_NOTE,
            credits=locked,
            reason=reason,
            status=Invoice.Status.ISSUED,
            number=number,
            issued_on=today,
            created_by=actor,
            issued_by=actor,
            issued_at=timezone.now(),
        )
        note.full_clean()
        note.save()
        InvoiceLine.objects.bulk_create(
            [
                InvoiceLine(
                    invoice=note,
                    position=line.position,
                    appointment=line.appointment,
                    item=line.item,
                    code=line.code,
                    description_en=line.description_en,
                    description_fr=line.description_fr,
                    component=line.component,
                    tax_treatment=line.tax_treatment,
                    service_date=line.service_date,
                    duration_minutes=line.duration_minutes,
                    provider_name=line.provider_name,
                    provider_profession=line.provider_profession,
                    provider_registration=line.provider_registration,
                    quantity=-line.quantity,
                    unit_price=line.unit_price,
                    amount=-line.amount,
                    taxes={k: str(-Decimal(v)) for k, v in line.taxes.items()},
                    tax_amount=-line.tax_amount,
                    exempt=line.exempt,
                )
                for line in locked.lines.all()
            ]
        )
        _totals(note)
        _settle_if_paid(locked)
    return note


def payment_record(
    *,
    invoice: Invoice,
    method: str,
    amount: Decimal,
    received_on: date,
    reference: str,
    submission: uuid.UUID,
    actor: User,
) -> tuple[Payment, bool]:
    """A payment against an issued invoice, never above its balance due.
    The same `submission` twice (a double click, a resent form) returns the
    payment already recorded: (payment, False)."""
    if not isinstance(amount, Decimal) or amount <= 0 or amount > MAX_AMOUNT:
        raise BillingError(BAD_AMOUNT())
    try:
        amount = taxes.check_amount(amount)
    except ValueError as exc:
        raise BillingError(BAD_AMOUNT()) from exc
    today = timezone.localdate(timezone.now(), invoice.clinic.zone)
    billing = _billing_of(invoice.clinic)
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        existing = Payment.objects.filter(submission=submission).first()
        if existing is not None:
            return existing, False
        if locked.is_credit_note or locked.status != Invoice.Status.ISSUED:
            raise BillingError(PAYMENT_NOT_ISSUED())
        if received_on > today or (locked.issued_on and received_on < locked.issued_on):
            raise BillingError(BAD_DATE())
        if amount > balance_of(locked).due:
            raise BillingError(PAYMENT_TOO_LARGE())
        payment = Payment(
            invoice=locked,
            method=method,
            amount=amount,
            received_on=received_on,
            reference=reference.strip(),
            submission=submission,
            recorded_by=actor,
            receipt_number=_next_number(
                clinic=locked.clinic,
                series=Counter.Series.RECEIPT,
                year=received_on.year,
                prefix=billing.prefix,
            ),
        )
        payment.full_clean()
        payment.save()
        _settle_if_paid(locked)
    return payment, True


# Kinds whose appointments billing prices (the catalogue says how).
BILLABLE_KINDS = tuple(AppointmentKind.values)
