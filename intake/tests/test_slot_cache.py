"""The slot page keeps its rendered week in memory for a minute, and drops
it the moment anything on the calendar or in the availability changes: a
visitor never sees a time that was just taken, nor misses one just freed."""

from datetime import time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from intake import services
from intake.models import AvailabilityException, AvailabilityWindow
from intake.selectors import Slot
from intake.tests.conftest import THURSDAY_10
from intake.tests.factories import book_call

pytestmark = pytest.mark.usefixtures("clock")  # stopped at NOW, a Monday morning


def slot_link(clinic, start=THURSDAY_10) -> str:
    return reverse("intake:book", args=[clinic.slug, Slot(start, start, ()).key])


def page(client, clinic, **params) -> str:
    response = client.get(reverse("intake:slots", args=[clinic.slug]), params)
    assert response.status_code == 200
    return response.content.decode()


def book(clinic, start=THURSDAY_10):
    return book_call(clinic, start)


def test_a_second_visit_reads_the_week_from_memory(client, intake_clinic):
    page(client, intake_clinic)
    with CaptureQueriesContext(connection) as queries:
        again = page(client, intake_clinic)
    assert slot_link(intake_clinic) in again and "about 30 minutes" in again
    # The clinic alone (the calendar version is in Redis): no availability,
    # booking or rules read.
    assert len(queries) == 1, [q["sql"][:80] for q in queries.captured_queries]


def test_a_slot_just_booked_disappears_at_once(
    client, intake_clinic, django_capture_on_commit_callbacks
):
    assert slot_link(intake_clinic) in page(client, intake_clinic)
    with django_capture_on_commit_callbacks(execute=True):
        call = book(intake_clinic)
    assert slot_link(intake_clinic) not in page(client, intake_clinic)
    with django_capture_on_commit_callbacks(execute=True):
        services.intake_call_cancel(intake_call=call)
    assert slot_link(intake_clinic) in page(client, intake_clinic)


def test_a_moved_call_frees_its_old_time_and_takes_the_new_one(
    client, intake_clinic, django_capture_on_commit_callbacks
):
    friday_10 = THURSDAY_10 + timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        call = book(intake_clinic)
    shown = page(client, intake_clinic)
    assert slot_link(intake_clinic) not in shown and slot_link(intake_clinic, friday_10) in shown
    with django_capture_on_commit_callbacks(execute=True):
        services.intake_call_reschedule(intake_call=call, start=friday_10)
    shown = page(client, intake_clinic)
    assert slot_link(intake_clinic) in shown and slot_link(intake_clinic, friday_10) not in shown


def test_availability_edited_in_the_admin_shows_at_once(
    client, intake_clinic, therapist, django_capture_on_commit_callbacks
):
    assert slot_link(intake_clinic) in page(client, intake_clinic)
    with django_capture_on_commit_callbacks(execute=True):
        AvailabilityException.objects.create(
            clinic=intake_clinic,
            staff=therapist,
            start=THURSDAY_10 - timedelta(hours=1),
            end=THURSDAY_10 + timedelta(hours=2),
            reason="Training",
        )
    assert slot_link(intake_clinic) not in page(client, intake_clinic)
    with django_capture_on_commit_callbacks(execute=True):
        AvailabilityException.objects.all().delete()
        AvailabilityWindow.objects.filter(staff=therapist).update(end_time=time(12))
        # A queryset update sends no signal: the window saved one by one does.
        for window in AvailabilityWindow.objects.filter(staff=therapist):
            window.save()
    shown = page(client, intake_clinic)
    assert slot_link(intake_clinic) in shown
    assert slot_link(intake_clinic, THURSDAY_10 + timedelta(hours=3)) not in shown


def test_each_language_and_week_has_its_own_copy(client, intake_clinic):
    english = page(client, intake_clinic)
    french = client.get(
        reverse("intake:slots", args=[intake_clinic.slug]), HTTP_ACCEPT_LANGUAGE="fr"
    ).content.decode()
    assert "Previous week" not in english and "Next week" in english
    assert "Semaine suivante" in french and "Next week" not in french
    later = page(client, intake_clinic, week="2026-06-08")
    assert "Previous week" in later and slot_link(intake_clinic) not in later


def test_times_that_fall_inside_the_notice_drop_off_within_a_minute(client, intake_clinic, clock):
    """The 24-hour notice moves with the clock: a copy is kept a minute at most."""
    assert slot_link(intake_clinic) in page(client, intake_clinic)
    clock.move_to(THURSDAY_10 - timedelta(hours=23, minutes=59, seconds=30))
    assert slot_link(intake_clinic) not in page(client, intake_clinic)


def test_the_availability_receivers_outlive_start_up():
    """A receiver held only weakly disappears at the first garbage collection
    (with DEBUG on, a cache in Django's signal code happens to keep it alive)."""
    import gc

    from django.db.models.signals import post_delete, post_save
    from django.utils.inspect import _get_func_parameters

    from intake.models import BookingRules

    _get_func_parameters.cache_clear()
    gc.collect()
    for model in (AvailabilityWindow, AvailabilityException, BookingRules):
        assert post_save.has_listeners(model) and post_delete.has_listeners(model), model
