"""Billing's test helpers: a clinic's catalogue, held appointments, billing staff,
payments received."""

import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal

from billing import services
from billing.catalogue import catalogue_install, coordinators_may_bill, tax_rates_install
from clinic import calendar
from clinic.models import Appointment, AppointmentKind, StaffRole
from clinic.tests.factories import staff_create

SINCE = date(2024, 1, 1)


def billing_ready(clinic, since: date = SINCE) -> None:
    tax_rates_install()  # a transactional test's flush removed the migration's rows
    catalogue_install(clinic=clinic, since=since)


def billing_staff(user):
    """A coordinator in the coordinators' group, which holds billing's permissions."""
    user.groups.add(coordinators_may_bill())
    # Permissions are cached on the user object: a fresh one reads the group.
    return type(user).objects.get(pk=user.pk)


def registered(user, number: str, profession: str | None = None):
    profile = user.staff_profile
    profile.registration_number = number
    if profession:
        profile.profession = profession
    profile.save()
    return user


def held(
    *,
    client,
    kind: str = AppointmentKind.PREPARATORY_SESSION,
    start: datetime,
    staff: list,
    minutes: int = 60,
) -> Appointment:
    appointment = calendar.appointment_book(
        clinic=client.clinic,
        kind=kind,
        start=start,
        end=start + timedelta(minutes=minutes),
        staff=staff,
        client=client,
    )
    return calendar.appointment_mark(
        appointment=appointment,
        status=Appointment.Status.HELD,
        now=start + timedelta(minutes=minutes),
    )


def team(clinic):
    """A therapist with a psychotherapist's permit and a physician, registered."""
    therapist = registered(
        staff_create(
            role=StaffRole.THERAPIST, clinics=[clinic], first_name="Claire", last_name="Dubé"
        ),
        "OPQ-PSY-4521",
        "Psychotherapist",
    )
    physician = registered(
        staff_create(
            role=StaffRole.MEDICAL_PRACTITIONER,
            clinics=[clinic],
            first_name="Marc",
            last_name="Roy",
        ),
        "CMQ-88123",
        "Physician",
    )
    return therapist, physician


def paid(invoice, biller, amount: str = "10.00", method: str = "cash"):
    """A payment of `amount` on the invoice, received today, as the billing
    staff records it (a fresh submission each time)."""
    from django.utils import timezone

    return services.payment_record(
        invoice=invoice,
        method=method,
        amount=Decimal(amount),
        received_on=timezone.localdate(),
        reference="",
        submission=uuid.uuid4(),
        actor=biller,
    )
