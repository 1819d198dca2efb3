"""The admin as staff read it: times in the clinic's own time zone and the
reader's language, phone numbers and birth dates as people write them, the
access log in words a privacy officer reads."""

import re
from datetime import UTC, date, datetime

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse

from clinic.access_log import access_log_record
from clinic.formatting import birth_date_display, phone_display
from clinic.models import ClientProfile
from eligibility.tests.factories import submitted_screening
from intake.models import IntakeCall
from intake.tests.factories import held_intake_call

BOOKED = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)  # 10:00 a.m. in Montréal, EST


def words(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


@pytest.fixture
def call(client_a, therapist):
    call = held_intake_call(client_a.courses.get(), therapist)
    IntakeCall.objects.filter(pk=call.pk).update(created_at=BOOKED)
    return call


def test_admin_times_are_in_the_clinics_time_zone(staff_login, call, therapist):
    page = words(
        staff_login(therapist).get(reverse("admin:intake_intakecall_change", args=[call.pk]))
    )
    assert "December 3, 2026, 10:00 a.m." in page
    assert "3:00 p.m." not in page


def test_without_the_middleware_they_would_be_utc(staff_login, call, therapist):
    # The control: the same page with the clinic's time zone not activated.
    middleware = [m for m in settings.MIDDLEWARE if not m.endswith("StaffTimeZoneMiddleware")]
    with override_settings(MIDDLEWARE=middleware):
        page = words(
            staff_login(therapist).get(reverse("admin:intake_intakecall_change", args=[call.pk]))
        )
    assert "December 3, 2026, 3:00 p.m." in page


def test_admin_times_follow_the_readers_language(staff_login, call, therapist):
    therapist.preferred_language = "fr"
    therapist.save(update_fields=["preferred_language"])
    page = words(
        staff_login(therapist).get(reverse("admin:intake_intakecall_change", args=[call.pk]))
    )
    assert "3 décembre 2026, 10 h 00" in page


def test_another_clinics_staff_read_their_own_zone(staff_login, clinic_bc, other_clinic_therapist):
    from clinic.tests.factories import client_create

    profile = client_create(clinic=clinic_bc, email="bc@example.com")
    call = held_intake_call(profile.courses.get(), other_clinic_therapist)
    IntakeCall.objects.filter(pk=call.pk).update(created_at=BOOKED)
    page = words(
        staff_login(other_clinic_therapist).get(
            reverse("admin:intake_intakecall_change", args=[call.pk])
        )
    )
    assert "December 3, 2026, 7:00 a.m." in page  # Vancouver, PST


def test_the_phone_number_is_formatted(staff_login, call, therapist):
    page = words(
        staff_login(therapist).get(reverse("admin:intake_intakecall_change", args=[call.pk]))
    )
    assert "(514) 555-0123" in page and "+15145550123" not in page


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("+15145550123", "(514) 555-0123"),
        ("514 555 0123", "(514) 555-0123"),
        ("+33 1 23 45 67 89", "+33 1 23 45 67 89"),
        ("call me", "call me"),
        ("", ""),
    ],
)
def test_phone_numbers_read_as_people_write_them(raw, shown):
    assert phone_display(raw) == shown


def test_a_birth_date_reads_with_the_age():
    assert (
        birth_date_display(date(1985, 4, 23), date(2026, 4, 22)) == "April 23, 1985 (40 years old)"
    )
    assert (
        birth_date_display(date(1985, 4, 23), date(2026, 4, 23)) == "April 23, 1985 (41 years old)"
    )
    assert birth_date_display(None, date(2026, 4, 23)) == "—"


def test_the_client_list_shows_birth_dates_with_the_age(staff_login, client_a, coordinator):
    from django.contrib.auth import get_user_model

    ClientProfile.objects.filter(pk=client_a.pk).update(
        date_of_birth=date(1985, 4, 23), phone="5145550123"
    )
    root = get_user_model().objects.create_superuser(
        email="root@example.com", password="a-long-test-passphrase", preferred_language="en"
    )
    page = words(staff_login(root).get(reverse("admin:clinic_clientprofile_changelist")))
    assert re.search(r"April 23, 1985 \(\d+ years old\)", page)
    assert "(514) 555-0123" in page


# --- The access log, for a privacy officer ------------------------------------------


def test_the_access_log_names_what_was_read_in_words(
    staff_login, client_a, therapist, privacy_officer
):
    screening = submitted_screening(client_a.courses.get())
    access_log_record(actor=therapist, client=client_a, obj=screening)
    response = staff_login(privacy_officer).get(reverse("admin:clinic_accesslogentry_changelist"))
    page = response.content.decode()
    text = words(response)
    # In words, in the rows and in what a screen reader says of each row.
    assert "eligibility.screening" not in text
    assert 'aria-label="Select this object for an action - ' in page
    assert "viewed eligibility.screening" not in page
    assert f"{therapist} viewed Screening {client_a}" in text
    # The filter too, by what was read, in words.
    assert "By what was read" in text
    assert "?object_type=eligibility.screening" in page
    filtered = staff_login(privacy_officer).get(
        reverse("admin:clinic_accesslogentry_changelist") + "?object_type=eligibility.screening"
    )
    assert len(filtered.context["cl"].result_list) == 1
