"""Changing a booking by its link, and the staff's day of calls."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from clinic.journey import course_transition
from clinic.models import AccessLogEntry, Appointment, Course, Stage
from eligibility.tests.factories import eligible_decision
from intake import services
from intake.models import IntakeCallOutcome
from intake.selectors import Slot
from intake.tests.conftest import NOW, THURSDAY_10
from intake.tests.factories import book_call


@pytest.fixture
def call(intake_clinic, clock):
    return book_call(intake_clinic, THURSDAY_10, concern="ptsd")


def manage_url(call):
    return reverse("intake:manage", args=[services.manage_token(call)])


def slot_key(start):
    return Slot(start, start, ()).key


def test_the_link_shows_the_call_and_reschedules_it_once_confirmed(client, call):
    page = client.get(manage_url(call)).content.decode()
    assert "Thursday June 4, 2026, 10:00 a.m." in page
    new_start = THURSDAY_10 + timedelta(days=1)
    asked = client.post(manage_url(call), {"action": "reschedule", "slot": slot_key(new_start)})
    # The first click only asks: the old and the new time, nothing changed yet.
    assert asked.status_code == 200
    question = asked.content.decode()
    assert "Move your intake call?" in question
    assert "Thursday June 4, 2026, 10:00 a.m." in question
    assert "Friday June 5, 2026, 10:00 a.m." in question
    call.appointment.refresh_from_db()
    assert call.appointment.start == THURSDAY_10 and call.appointment.version == 1
    response = client.post(
        manage_url(call),
        {"action": "reschedule", "slot": slot_key(new_start), "confirmed": "yes"},
    )
    assert response.status_code == 302
    call.appointment.refresh_from_db()
    assert call.appointment.start == new_start and call.appointment.version == 2
    assert "Your intake call is moved" in client.get(response["Location"]).content.decode()


def test_the_link_cancels_the_call_and_frees_the_slot_once_confirmed(client, call):
    asked = client.post(manage_url(call), {"action": "cancel"})
    assert asked.status_code == 200
    assert "Cancel your intake call?" in asked.content.decode()
    assert "Thursday June 4, 2026, 10:00 a.m." in asked.content.decode()
    call.appointment.refresh_from_db()
    assert call.appointment.status == Appointment.Status.BOOKED
    response = client.post(manage_url(call), {"action": "cancel", "confirmed": "yes"})
    assert response.status_code == 302
    call.appointment.refresh_from_db()
    assert call.appointment.status == Appointment.Status.CANCELLED
    assert not call.appointment.reservations.filter(is_live=True).exists()
    page = client.get(response["Location"]).content.decode()
    assert "Status of this call: cancelled" in page
    # A second cancel (double click) changes nothing and says why.
    again = client.post(manage_url(call), {"action": "cancel", "confirmed": "yes"}, follow=True)
    assert "This call is already cancelled." in again.content.decode()
    call.appointment.refresh_from_db()
    assert call.appointment.status == Appointment.Status.CANCELLED


def test_a_confirmed_move_sent_twice_moves_the_call_once(client, call):
    old = manage_url(call)
    form = {"action": "reschedule", "slot": slot_key(THURSDAY_10 + timedelta(days=1))}
    first = client.post(old, {**form, "confirmed": "yes"})
    second = client.post(old, {**form, "confirmed": "yes"})
    assert second.status_code == 302 and second["Location"] == first["Location"]
    assert "already moved to this time" in client.get(second["Location"]).content.decode()
    call.appointment.refresh_from_db()
    assert call.appointment.version == 2
    # Another browser holding the old link learns nothing from it.
    from django.test import Client

    stranger = Client().post(old, {**form, "confirmed": "yes"})
    assert stranger.status_code == 400


def test_a_time_taken_while_confirming_changes_nothing_and_says_so(client, call):
    new_start = THURSDAY_10 + timedelta(days=1)
    form = {"action": "reschedule", "slot": slot_key(new_start)}
    assert client.post(manage_url(call), form).status_code == 200
    book_call(call.appointment.clinic, new_start, email="sam@example.com")
    response = client.post(manage_url(call), {**form, "confirmed": "yes"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "was taken while you were confirming" in page
    assert "still on Thursday June 4, 2026, 10:00 a.m." in page
    call.appointment.refresh_from_db()
    assert call.appointment.start == THURSDAY_10 and call.appointment.version == 1


def test_the_grid_marks_the_current_time(client, call):
    page = client.get(manage_url(call) + "?week=2026-06-02").content.decode()
    assert page.count('data-testid="current-slot"') == 1
    assert "Your current time" in page


def test_the_manage_page_in_french_asks_in_french(client, call):
    client.cookies["django_language"] = "fr"
    asked = client.post(manage_url(call), {"action": "cancel"}, HTTP_ACCEPT_LANGUAGE="fr")
    page = asked.content.decode()
    assert "Annuler votre appel d’accueil" in page
    assert "jeudi 4 juin 2026" in page


@pytest.mark.parametrize("token", ["garbage", "eyJjIjoiMSJ9:forged:signature", "x" * 400])
def test_a_forged_link_gets_a_clear_page(client, call, token):
    response = client.get(reverse("intake:manage", args=[token]))
    assert response.status_code == 400
    assert "This link is not valid" in response.content.decode()


def test_a_link_from_before_a_reschedule_no_longer_works(client, call):
    old = manage_url(call)
    services.intake_call_reschedule(intake_call=call, start=THURSDAY_10 + timedelta(days=1))
    response = client.post(old, {"action": "cancel", "confirmed": "yes"})
    assert response.status_code == 400
    assert "has changed since this link was sent" in response.content.decode()
    call.appointment.refresh_from_db()
    assert call.appointment.status == Appointment.Status.BOOKED


def test_no_change_by_link_within_the_clinics_cutoff(client, call, clock):
    clock.move_to(THURSDAY_10 - timedelta(hours=5))
    for confirmed in ("", "yes"):
        response = client.post(manage_url(call), {"action": "cancel", "confirmed": confirmed})
        assert "less than 24 hours away" in response.content.decode()
    call.appointment.refresh_from_db()
    assert call.appointment.status == Appointment.Status.BOOKED


def test_rescheduling_reads_the_clinics_booking_rules_once(call):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        services.intake_call_reschedule(intake_call=call, start=THURSDAY_10 + timedelta(days=1))
    reads = [q["sql"] for q in queries.captured_queries if '"intake_bookingrules"' in q["sql"]]
    assert len(reads) == 1, reads


def test_rescheduling_to_a_taken_or_made_up_slot_changes_nothing(client, call):
    for slot in ["junk", Slot(NOW + timedelta(hours=1), NOW, ()).key]:
        for confirmed in ("", "yes"):
            response = client.post(
                manage_url(call), {"action": "reschedule", "slot": slot, "confirmed": confirmed}
            )
            assert "Please choose another time." in response.content.decode()
    call.appointment.refresh_from_db()
    assert call.appointment.start == THURSDAY_10


# --- Staff -------------------------------------------------------------------------------


def test_the_day_view_lists_the_calls_of_the_day(staff_login, call, coordinator):
    web = staff_login(coordinator)
    page = web.get(reverse("intake:staff_day"), {"day": "2026-06-04"}).content.decode()
    assert "Alex Tremblay" in page
    assert "10:00 a.m." in page
    assert (
        "No intake call this day."
        in web.get(reverse("intake:staff_day"), {"day": "2026-06-05"}).content.decode()
    )


def test_the_day_view_asked_for_another_clinic_shows_the_staff_members_own(
    staff_login, call, coordinator, clinic_bc, other_clinic_therapist
):
    from intake.tests.factories import rules, weekly_availability

    rules(clinic_bc)
    weekly_availability(clinic_bc, other_clinic_therapist, days=[3])
    vancouver_10 = datetime(2026, 6, 4, 10, 0, tzinfo=ZoneInfo("America/Vancouver"))
    book_call(clinic_bc, vancouver_10, email="sam.bc@example.com", concern="anxiety")
    web = staff_login(coordinator)
    response = web.get(reverse("intake:staff_day"), {"clinic": "vancouver", "day": "2026-06-04"})
    assert response.status_code == 200
    assert response.context["clinic"].slug == "montreal"
    assert [c.uuid for c in response.context["calls"]] == [call.uuid]
    page = response.content.decode()
    assert "Intake calls in Montréal" in page and 'value="vancouver"' not in page
    assert not AccessLogEntry.objects.exclude(object_id=str(call.uuid)).exists()


def test_a_coordinator_sees_the_call_but_not_the_concern_and_the_read_is_logged(
    staff_login, call, coordinator
):
    web = staff_login(coordinator)
    page = web.get(reverse("intake:staff_call", args=[call.uuid])).content.decode()
    assert "Post-traumatic" not in page
    assert 'name="notes"' not in page
    # Even without the concern, who is booked is health information: the read is logged.
    assert AccessLogEntry.objects.filter(actor=coordinator, object_id=str(call.uuid)).count() == 1
    response = web.post(
        reverse("intake:staff_call", args=[call.uuid]), {"outcome": "held", "notes": "x"}
    )
    assert response.status_code == 403
    call.appointment.refresh_from_db()
    assert call.appointment.status == Appointment.Status.BOOKED


def test_a_clinician_records_the_call_as_held_and_the_course_can_move_on(
    staff_login, call, therapist, clock
):
    web = staff_login(therapist)
    url = reverse("intake:staff_call", args=[call.uuid])
    early = web.post(url, {"outcome": "held", "notes": "Good fit."})
    assert "has not started yet" in early.content.decode()
    course = Course.objects.get(pk=call.course_id)
    with pytest.raises(Exception, match="intake call must have taken place"):
        course_transition(course=course, to_stage=Stage.PREPARE, actor=therapist)
    clock.move_to(THURSDAY_10 + timedelta(minutes=40))
    web.logout()
    web = staff_login(therapist)  # a new day, a new sign-in
    page = web.get(url).content.decode()

    assert "Post-traumatic" in page
    assert AccessLogEntry.objects.filter(actor=therapist, object_id=str(call.uuid)).exists()
    assert web.post(url, {"outcome": "held", "notes": "Good fit."}).status_code == 302
    call.refresh_from_db()
    assert call.appointment.status == Appointment.Status.HELD
    assert [(o.outcome, o.notes, o.by) for o in call.outcomes.all()] == [
        ("held", "Good fit.", therapist)
    ]
    with pytest.raises(Exception, match="eligible decision"):
        course_transition(course=course, to_stage=Stage.PREPARE, actor=therapist)
    eligible_decision(course, therapist)
    course_transition(course=course, to_stage=Stage.PREPARE, actor=therapist)
    assert course.stage == Stage.PREPARE


def test_the_call_page_its_saved_outcome_and_the_staff_notice_lead_to_the_calls_day(
    staff_login, call, therapist, clock
):
    from django.core import mail

    from clinic.outbox import outbox_sweep

    day_url = reverse("intake:staff_day") + "?clinic=montreal&day=2026-06-04"
    outbox_sweep()
    outbox_sweep()  # the staff notice's fan-out, then the notices
    notice = next(m for m in mail.outbox if m.to == [therapist.email])
    assert "http://" in notice.body and day_url in notice.body
    clock.move_to(THURSDAY_10 + timedelta(minutes=40))
    web = staff_login(therapist)
    url = reverse("intake:staff_call", args=[call.uuid])
    assert day_url.replace("&", "&amp;") in web.get(url).content.decode()
    assert web.post(url, {"outcome": "held", "notes": ""})["Location"] == day_url


def test_the_days_link_is_the_clinics_local_day_not_the_utc_one(clinic_bc):
    from clinic.models import Appointment
    from intake.selectors import staff_day_url

    # 23:30 in Vancouver on June 4 is 06:30 UTC on June 5.
    start = datetime(2026, 6, 4, 23, 30, tzinfo=ZoneInfo("America/Vancouver"))
    appointment = Appointment(clinic=clinic_bc, start=start, end=start + timedelta(minutes=30))
    assert staff_day_url(appointment).endswith("?clinic=vancouver&day=2026-06-04")


def test_another_clinics_staff_cannot_open_the_call(staff_login, call, other_clinic_therapist):
    web = staff_login(other_clinic_therapist)
    assert web.get(reverse("intake:staff_call", args=[call.uuid])).status_code == 404


def test_clients_cannot_open_staff_pages(client, call, client_b):
    client.force_login(client_b.user)
    assert client.get(reverse("intake:staff_day")).status_code == 403
    assert client.get(reverse("intake:staff_call", args=[call.uuid])).status_code == 403


def test_the_portal_shows_the_booked_call_as_the_next_step(client, call):
    from clinic.models import User

    user = User.objects.get(email="alex@example.com")
    from allauth.account.models import EmailAddress

    EmailAddress.objects.filter(user=user).update(verified=True)
    client.force_login(user)
    page = client.get(reverse("portal:home")).content.decode()
    # The screener is the next step meanwhile; the booked call is listed with its link.
    assert "Fill in the eligibility screener" in page
    assert "Booked for Thursday June 4, 2026, 10:00 a.m. (Montréal time)" in page
    assert manage_url(call) in page


def test_the_new_client_sets_a_password_through_the_emailed_link(client, call):
    from allauth.account.models import EmailAddress
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    from clinic.models import User

    user = User.objects.get(email="alex@example.com")
    url = reverse(
        "account_activate",
        args=[
            urlsafe_base64_encode(force_bytes(user.pk)),
            default_token_generator.make_token(user),
        ],
    )
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"new_password1": "a-brand-new-passphrase", "new_password2": "a-brand-new-passphrase"}
    )
    assert response["Location"] == reverse("portal:home")
    assert EmailAddress.objects.get(user=user).verified
    assert client.get(reverse("portal:home")).status_code == 200
    # The link works once.
    client.logout()
    assert client.get(url).status_code == 400


def test_opening_an_intake_call_in_the_admin_is_logged(staff_login, call, therapist):
    from clinic.tests.factories import UserFactory

    web = staff_login(therapist)
    page = web.get(reverse("admin:intake_intakecall_change", args=[call.pk]))
    assert page.status_code == 200
    entry = AccessLogEntry.objects.get(actor=therapist)
    assert (entry.object_type, entry.object_id, entry.client) == (
        "intake.intakecall",
        str(call.uuid),
        call.course.client,
    )
    assert web.get(reverse("admin:intake_intakecall_changelist")).status_code == 200
    root = UserFactory(email="root@example.com", is_staff=True, is_superuser=True)
    assert staff_login(root).get(reverse("admin:clinic_appointment_changelist")).status_code == 200


def test_the_admin_shows_a_clinician_only_the_calls_of_their_clinics(
    staff_login, call, other_clinic_therapist
):
    web = staff_login(other_clinic_therapist)
    listed = web.get(reverse("admin:intake_intakecall_changelist")).context["cl"].result_list
    assert list(listed) == []
    change = web.get(reverse("admin:intake_intakecall_change", args=[call.pk]))
    assert change.status_code in (302, 404)
    assert "Post-traumatic" not in change.content.decode()
    assert not AccessLogEntry.objects.filter(actor=other_clinic_therapist).exists()


def test_the_admin_keeps_the_concern_and_notes_from_whoever_is_not_a_clinician(
    staff_login, call, coordinator
):
    """As on the staff call page: a coordinator (even with the admin right to
    view intake calls) or an administrator without a clinical role reads
    neither the concern nor the notes there."""
    from django.contrib.auth.models import Permission

    from clinic.tests.factories import UserFactory

    IntakeCallOutcome.objects.create(call=call, outcome="held", notes="Private clinical note.")
    coordinator.user_permissions.add(Permission.objects.get(codename="view_intakecall"))
    root = UserFactory(email="root@example.com", is_staff=True, is_superuser=True)
    for person in (coordinator, root):
        web = staff_login(person)
        for name, args in (
            ("admin:intake_intakecall_change", [call.pk]),
            ("admin:intake_intakecall_changelist", []),
        ):
            response = web.get(reverse(name, args=args))
            assert response.status_code == 403, (person, name)
            assert "Private clinical note." not in response.content.decode()
        assert "intakecall" not in web.get(reverse("admin:index")).content.decode()
    assert not AccessLogEntry.objects.exists()


def test_the_day_view_query_count_does_not_grow_with_the_calls(
    staff_login, intake_clinic, coordinator, clinic_qc, clock
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from clinic.tests.factories import staff_create
    from intake.tests.factories import weekly_availability

    web = staff_login(coordinator)
    web.get(reverse("intake:staff_day"))
    counts = []
    n = 0
    for batch in (2, 12):
        for _ in range(batch):
            person = staff_create(clinics=[clinic_qc])
            weekly_availability(clinic_qc, person, days=[3])
            book_call(intake_clinic, THURSDAY_10, email=f"day{n}@example.com", concern="anxiety")
            n += 1
        with CaptureQueriesContext(connection) as queries:
            page = web.get(reverse("intake:staff_day"), {"day": "2026-06-04"})
        assert page.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_each_call_the_day_view_shows_is_a_logged_read(staff_login, call, coordinator):
    web = staff_login(coordinator)
    web.get(reverse("intake:staff_day"), {"day": "2026-06-04"})
    entry = AccessLogEntry.objects.get(actor=coordinator)
    assert (entry.object_type, entry.object_id) == ("intake.intakecall", str(call.uuid))


@pytest.mark.parametrize("others", [1, 10])
def test_the_manage_pages_cost_the_same_queries_whatever_the_calendar_holds(
    client, call, clinic_qc, others, django_assert_max_num_queries
):
    """The manage page, and each question before a change, at one and at ten
    other calls booked that week: the same budget."""
    from clinic.tests.factories import staff_create
    from intake.tests.factories import weekly_availability

    for n in range(others):
        person = staff_create(clinics=[clinic_qc])
        weekly_availability(clinic_qc, person, days=range(5))
        book_call(clinic_qc, THURSDAY_10 + timedelta(days=1), email=f"other{n}@example.com")
    url = manage_url(call)
    move = {"action": "reschedule", "slot": slot_key(THURSDAY_10 + timedelta(hours=2))}
    with django_assert_max_num_queries(5):
        assert client.get(url).status_code == 200
    with django_assert_max_num_queries(5):
        assert "Move your intake call?" in client.post(url, move).content.decode()
    with django_assert_max_num_queries(2):
        assert "Cancel your intake call?" in client.post(url, {"action": "cancel"}).content.decode()


def test_the_day_finds_its_calls_from_the_days_intake_appointments(call, intake_clinic):
    """The day's query names the appointments' kind, so PostgreSQL starts from
    the day's few intake-call appointments and looks each call up by its
    unique appointment, instead of reading every call ever booked (a hash join
    over a sequential scan, measured at 10,000 clients)."""
    from datetime import date

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from intake.selectors import staff_day_calls

    with CaptureQueriesContext(connection) as queries:
        calls = staff_day_calls(clinic=intake_clinic, day=date(2026, 6, 4))
    assert calls == [call]
    assert """"clinic_appointment"."kind" = 'intake_call'""" in queries.captured_queries[0]["sql"]
