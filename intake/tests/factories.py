import uuid
from datetime import datetime, time, timedelta

from django.utils import timezone

from clinic.models import Appointment, AppointmentKind, Course, Reservation, User
from intake import services
from intake.models import AvailabilityWindow, BookingRules, IntakeCall, IntakeCallOutcome


def weekly_availability(clinic, staff: User, *, days=range(7), start=time(9), end=time(17)):
    for weekday in days:
        AvailabilityWindow.objects.create(
            clinic=clinic, staff=staff, weekday=weekday, start_time=start, end_time=end
        )


def rules(clinic, **fields) -> BookingRules:
    rules, _ = BookingRules.objects.update_or_create(clinic=clinic, defaults=fields)
    return rules


def held_intake_call(course: Course, clinician: User, *, days_ago: int = 1) -> IntakeCall:
    """Test set-up: an intake call that took place (the connect -> prepare condition)."""
    start = timezone.now() - timedelta(days=days_ago)
    appointment = Appointment.objects.create(
        clinic=course.clinic,
        kind=AppointmentKind.INTAKE_CALL,
        start=start,
        end=start + timedelta(minutes=30),
        client=course.client,
        status=Appointment.Status.HELD,
    )
    Reservation.objects.create(
        appointment=appointment,
        staff=clinician,
        start=appointment.start,
        end=appointment.end,
        is_live=False,
    )
    call = IntakeCall.objects.create(
        appointment=appointment,
        course=course,
        concern="depression",
        language="en",
        phone="+15145550123",
        consent_to_contact=True,
        submission=uuid.uuid4(),
    )
    IntakeCallOutcome.objects.create(
        call=call, outcome="held", notes="Held.", by=clinician, at=appointment.end
    )
    return call


def visitor(email: str = "alex@example.com", language: str = "en") -> services.Visitor:
    return services.Visitor("Alex", "Tremblay", email, "+15145550123", language)


def book_call(
    clinic,
    start: datetime,
    *,
    email: str = "alex@example.com",
    language: str = "en",
    concern: str = "depression",
    **fields,
) -> IntakeCall:
    """An intake call booked as the form books one (a new submission each time
    unless `submission` is given; `user` for a signed-in client)."""
    fields.setdefault("consent_to_contact", True)
    fields.setdefault("submission", uuid.uuid4())
    return services.intake_call_book(
        clinic=clinic, start=start, visitor=visitor(email, language), concern=concern, **fields
    )
