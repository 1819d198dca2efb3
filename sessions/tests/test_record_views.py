"""The session record's pages: who opens them, what every read writes to
the access log, the forms' refusals in the person's language (nothing saved
changes), another client's ids, a double submit, and a query count that
does not grow with the record."""

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinic.models import AccessLogEntry, AppointmentKind, Course, Stage
from sessions.models import (
    Administration,
    AssessmentSignOff,
    DosePlan,
    DosingSession,
    SessionPreferences,
    VitalsOverride,
    VitalsReading,
)
from sessions.services import record

from .record_factories import (
    course_in,
    minutes_ago,
    plan_for,
    preparation_at,
    prepared_but_for_the_assessment,
    ready_to_close,
    session_at,
    vitals,
)


def page_of(session):
    return reverse("dosing:record_session", args=[session.uuid])


def course_page(course):
    return reverse("dosing:record_course", args=[course.uuid])


def logged(actor, obj) -> int:
    return AccessLogEntry.objects.filter(
        actor=actor, object_type=obj._meta.label_lower, object_id=str(obj.uuid)
    ).count()


def form_data(prefix, **values):
    return {f"{prefix}-{name}": value for name, value in values.items()}


def vitals_post(moment="pre_dose", submission="", **values):
    values = {"systolic": 124, "diastolic": 78, "heart_rate": 70, "spo2": 98, **values}
    return {
        "action": "vitals",
        **form_data("vitals", moment=moment, submission=submission, **values),
    }


def administration_post(dose_mg="50", given_at=None, **extra):
    # Typed in the clinic's own time (Montreal), whatever the server's zone.
    given_at = given_at or timezone.localtime(minutes_ago(45), ZoneInfo("America/Toronto"))
    return {
        "action": "administration",
        **form_data(
            "administration",
            given_at=given_at.strftime("%Y-%m-%dT%H:%M")
            if hasattr(given_at, "strftime")
            else given_at,
            route="nasal_spray",
            dose_mg=dose_mg,
            **extra,
        ),
    }


# --- Who opens the session page, and the log of every read ------------------------------------


def test_a_clinician_reads_the_session_and_the_read_is_logged(
    staff_login, dosing_session, dosing_course, therapist
):
    SessionPreferences.objects.create(
        course=dosing_course,
        eye_shades="yes",
        sound="music",
        escort_name="Sam Tremblay",
        escort_phone="+1 514 555 0199",
        notes="Prefers the blanket.",
    )
    web = staff_login(therapist)
    response = web.get(page_of(dosing_session))
    assert response.status_code == 200
    page = response.content.decode()
    for shown in ("Sam Tremblay", "Prefers the blanket.", "Yes, eye shades", "Music"):
        assert shown in page
    assert "Nasal spray 50.00 mg" in page
    assert "Record the vitals before the dose." in page
    assert logged(therapist, dosing_session) == 1
    entry = AccessLogEntry.objects.get(object_id=str(dosing_session.uuid))
    assert entry.client == dosing_course.client and entry.path == page_of(dosing_session)
    web.post(page_of(dosing_session), vitals_post())
    assert logged(therapist, dosing_session) == 2  # the page read again with its answer


@pytest.mark.parametrize(
    ("actor", "status"),
    [("coordinator", 403), ("privacy_officer", 403), ("other_clinic_therapist", 404)],
)
def test_no_one_else_reads_a_session_record(request, staff_login, dosing_session, actor, status):
    person = request.getfixturevalue(actor)
    web = staff_login(person)
    assert web.get(page_of(dosing_session)).status_code == status
    response = web.post(page_of(dosing_session), vitals_post())
    assert response.status_code == status
    assert not VitalsReading.objects.exists()
    assert not AccessLogEntry.objects.filter(object_id=str(dosing_session.uuid)).exists()


def test_a_client_reads_no_record(client, client_a, dosing_session, dosing_course):
    client.force_login(client_a.user)
    assert client.get(page_of(dosing_session)).status_code == 403
    assert client.get(course_page(dosing_course)).status_code == 403


def test_another_clients_entry_in_a_correction_is_404_and_changes_nothing(
    staff_login, dosing_session, client_b, therapist, medical_practitioner
):
    other_course = course_in(client_b.courses.get(), Stage.DOSING)
    plan_for(other_course, medical_practitioner)
    other = session_at(other_course, therapist, medical_practitioner, start=minutes_ago(400))
    theirs = vitals(other, therapist, systolic=131)
    web = staff_login(therapist)
    response = web.post(
        page_of(dosing_session),
        {
            "action": f"fix:vitals:{theirs.pk}",
            **form_data(
                f"fix-vitals-{theirs.pk}",
                systolic=100,
                diastolic=60,
                heart_rate=60,
                spo2=99,
                correction_reason="x",
            ),
        },
    )
    assert response.status_code == 404
    assert VitalsReading.objects.count() == 1
    assert web.post(page_of(dosing_session), {"action": "fix:vitals:abc"}).status_code == 404
    assert web.post(page_of(dosing_session), {"action": "nonsense"}).status_code == 400


def test_an_unknown_session_is_404(staff_login, therapist):
    import uuid

    response = staff_login(therapist).get(reverse("dosing:record_session", args=[uuid.uuid4()]))
    assert response.status_code == 404


# --- The forms' refusals -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"systolic": 900}, "The systolic pressure (mmHg) must be between 50 and 260"),
        ({"heart_rate": -5}, "The heart rate (per minute) must be between 20 and 250"),
        ({"spo2": "abc"}, "Enter a whole number."),
    ],
)
def test_vitals_out_of_range_get_a_clear_form_error(
    staff_login, dosing_session, therapist, values, message
):
    response = staff_login(therapist).post(page_of(dosing_session), vitals_post(**values))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not VitalsReading.objects.exists()


def test_the_dose_waits_for_the_practitioners_confirmation_on_the_page(
    staff_login, dosing_session, therapist, medical_practitioner
):
    web = staff_login(therapist)
    response = web.post(page_of(dosing_session), vitals_post(systolic=150, diastolic=95))
    assert response.status_code == 302
    page = web.get(page_of(dosing_session)).content.decode()
    assert "is above 140/90: a medical practitioner must confirm" in page
    assert 'value="confirm"' not in page  # a therapist does not confirm
    refused = web.post(page_of(dosing_session), administration_post())
    assert refused.status_code == 200
    assert "a medical practitioner must confirm, with a reason" in refused.content.decode()
    assert not Administration.objects.exists()

    web = staff_login(medical_practitioner)
    page = web.get(page_of(dosing_session)).content.decode()
    assert 'value="confirm"' in page
    reading = VitalsReading.objects.get()
    web.post(
        page_of(dosing_session),
        {"action": "confirm", **form_data("confirm", reading=reading.pk, reason="Baseline 150s.")},
    )
    assert VitalsOverride.objects.get().by == medical_practitioner
    response = web.post(page_of(dosing_session), administration_post())
    assert response.status_code == 302, response.content.decode()
    assert Administration.objects.get().dose_mg == Decimal("50.00")
    page = web.get(page_of(dosing_session)).content.decode()
    assert "Dose confirmed by" in page and "Vitals after the dose are due at" in page


def test_the_dose_is_refused_before_the_vitals_and_after_a_deferral(
    staff_login, dosing_session, therapist
):
    web = staff_login(therapist)
    response = web.post(page_of(dosing_session), administration_post())
    assert "Record the vitals before the dose first." in response.content.decode()
    web.post(page_of(dosing_session), vitals_post(systolic=165, diastolic=100))
    page = web.get(page_of(dosing_session)).content.decode()
    assert "Deferred: Blood pressure 165/100 before the dose: at or above 160/100." in page
    response = web.post(page_of(dosing_session), administration_post())
    assert response.status_code == 200  # the form is gone, the refusal is not
    assert not Administration.objects.exists()


def test_the_same_form_sent_twice_records_once(staff_login, dosing_session, therapist):
    import uuid

    token = str(uuid.uuid4())
    web = staff_login(therapist)
    for _ in range(2):
        assert web.post(page_of(dosing_session), vitals_post(submission=token)).status_code == 302
    assert VitalsReading.objects.count() == 1


def test_a_correction_shows_the_current_value_and_the_history(
    staff_login, dosing_session, therapist
):
    first = vitals(dosing_session, therapist, systolic=128)
    web = staff_login(therapist)
    response = web.post(
        page_of(dosing_session),
        {
            "action": f"fix:vitals:{first.pk}",
            **form_data(
                f"fix-vitals-{first.pk}",
                systolic=118,
                diastolic=78,
                heart_rate=70,
                spo2=98,
                correction_reason="",
            ),
        },
    )
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    web.post(
        page_of(dosing_session),
        {
            "action": f"fix:vitals:{first.pk}",
            **form_data(
                f"fix-vitals-{first.pk}",
                systolic=118,
                diastolic=78,
                heart_rate=70,
                spo2=98,
                correction_reason="Read the cuff wrong.",
            ),
        },
    )
    page = web.get(page_of(dosing_session)).content.decode()
    assert "BP 118/78 mmHg" in page and "Corrected: Read the cuff wrong." in page
    assert "1 earlier version" in page and "128/78" in page


def test_an_incomplete_checklist_is_a_form_error_and_the_last_discharge_moves_the_course(
    staff_login, dosing_session, dosing_course, therapist, medical_practitioner
):
    ready_to_close(dosing_session, therapist, medical_practitioner)
    web = staff_login(therapist)
    checklist = form_data(
        "discharge",
        alert_and_oriented="on",
        vitals_in_range="on",
        escort_or_ride="on",
        no_driving_acknowledged="on",
    )
    incomplete = {**checklist}
    incomplete.pop("discharge-escort_or_ride")
    response = web.post(page_of(dosing_session), {"action": "discharge", **incomplete})
    assert "Tick every item of the discharge checklist" in response.content.decode()
    dosing_session.refresh_from_db()
    assert dosing_session.outcome == ""
    response = web.post(page_of(dosing_session), {"action": "discharge", **checklist}, follow=True)
    page = response.content.decode()
    assert "The series is complete: the course moved on to integrate." in page
    assert Course.objects.get(pk=dosing_course.pk).stage == Stage.INTEGRATE
    assert DosingSession.objects.get(pk=dosing_session.pk).outcome == "discharged"


def test_a_french_speaking_clinician_reads_the_refusals_in_french(
    staff_login, dosing_session, therapist
):
    therapist.preferred_language = "fr"
    therapist.save(update_fields=["preferred_language"])
    web = staff_login(therapist)
    response = web.post(page_of(dosing_session), vitals_post(systolic=900))
    page = response.content.decode()
    assert "La pression systolique (mmHg) doit être entre 50 et 260" in page
    response = web.post(page_of(dosing_session), administration_post())
    assert "Prenez les signes vitaux avant la dose" in response.content.decode()


# --- The query count does not grow with the record -------------------------------------------


def test_the_session_page_reads_in_a_fixed_number_of_queries(
    staff_login, dosing_course, dose_plan, therapist, medical_practitioner, client_b
):
    small = session_at(
        dosing_course, therapist, medical_practitioner, start=minutes_ago(60), planned=6
    )
    vitals(small, therapist)
    large = session_at(
        dosing_course, therapist, medical_practitioner, start=minutes_ago(60 * 24 * 6)
    )
    first = vitals(large, therapist, systolic=150, diastolic=95, now=large.appointment.start)
    record.vitals_confirm(
        session=large,
        reading=first,
        reason="ok",
        actor=medical_practitioner,
        now=large.appointment.start,
    )
    at = large.appointment.start
    record.administration_record(
        session=large,
        actor=medical_practitioner,
        given_at=at,
        route="nasal_spray",
        dose_mg=Decimal("50"),
        now=at,
    )
    for i in range(12):
        reading = vitals(large, therapist, "post_dose", heart_rate=70 + i)
        vitals(
            large,
            therapist,
            "post_dose",
            heart_rate=71 + i,
            corrects=reading,
            correction_reason="typo",
        )
        note = record.note_record(session=large, actor=therapist, text=f"Note {i}")
        record.note_record(
            session=large,
            actor=therapist,
            text=f"Note {i}.",
            corrects=note,
            correction_reason="full stop",
        )
        record.adverse_event_record(
            session=large, actor=therapist, kind="nausea", severity="mild", action_taken="rest"
        )
    for _ in range(3):  # other sessions in the series and the clinic
        session_at(
            dosing_course, therapist, medical_practitioner, start=minutes_ago(60 * 24 * (10 + _))
        )
    web = staff_login(therapist)
    counts = []
    for session in (small, large):
        web.get(page_of(session))  # warm the session and the user
        with CaptureQueriesContext(connection) as queries:
            response = web.get(page_of(session))
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    assert counts[0] <= 19, counts


# --- A course's clinical record ------------------------------------------------------------------


def test_only_a_practitioner_writes_the_plan_on_the_course_page(
    staff_login, dosing_course, therapist, medical_practitioner
):
    web = staff_login(therapist)
    page = web.get(course_page(dosing_course)).content.decode()
    assert "Only a medical practitioner sets or changes the dose plan." in page
    assert logged(therapist, dosing_course) == 1
    plan = {"action": "plan", **form_data("plan", route="nasal_spray", dose_mg="50", notes="")}
    response = web.post(course_page(dosing_course), plan)
    assert "Only a medical practitioner of the clinic can do this." in response.content.decode()
    assert not DosePlan.objects.exists()

    web = staff_login(medical_practitioner)
    assert web.post(course_page(dosing_course), plan).status_code == 302
    first = DosePlan.objects.get()
    change = {
        "action": "plan",
        **form_data("plan", route="nasal_spray", dose_mg="62.5", notes="Up a step.", seen=first.pk),
    }
    assert web.post(course_page(dosing_course), change).status_code == 302
    stale = web.post(course_page(dosing_course), {**change, "plan-dose_mg": "70"})
    assert "changed while you were editing it" in stale.content.decode()
    assert DosePlan.objects.count() == 2
    page = web.get(course_page(dosing_course)).content.decode()
    assert "Every change of the plan" in page
    assert "Nasal spray 50.00 mg" in page and "Nasal spray 62.50 mg" in page
    assert "Up a step." in page


@pytest.mark.parametrize(
    ("dose_mg", "message"),
    [("0", "Enter a dose between"), ("12.345", "Enter a dose between"), ("x", "Enter a number.")],
)
def test_a_bad_dose_in_the_plan_form(
    staff_login, dosing_course, medical_practitioner, dose_mg, message
):
    web = staff_login(medical_practitioner)
    response = web.post(
        course_page(dosing_course),
        {"action": "plan", **form_data("plan", route="nasal_spray", dose_mg=dose_mg)},
    )
    assert message in response.content.decode()
    assert not DosePlan.objects.exists()


def test_the_assessment_is_marked_and_signed_off_on_the_course_page(
    staff_login, client_a, client_b, therapist, medical_practitioner
):
    course = prepared_but_for_the_assessment(course_in(client_a.courses.get(), Stage.PREPARE))
    assessment = preparation_at(course, medical_practitioner, start=minutes_ago(120))
    other = preparation_at(
        course_in(client_b.courses.get(), Stage.PREPARE), therapist, start=minutes_ago(300)
    )
    web = staff_login(medical_practitioner)
    url = course_page(course)
    # Another client's assessment through this course's page: not found, nothing changed.
    response = web.post(
        url,
        {
            "action": f"mark:{other.uuid}",
            f"mark-{other.uuid}-status": "held",
            f"mark-{other.uuid}-was": "booked",
        },
    )
    assert response.status_code == 404
    assert web.post(url, {"action": "mark:not-a-uuid"}).status_code == 404
    prefix = f"mark-{assessment.uuid}"
    web.post(
        url,
        {
            "action": f"mark:{assessment.uuid}",
            f"{prefix}-status": "held",
            f"{prefix}-was": "booked",
        },
    )
    prefix = f"signoff-{assessment.uuid}"
    response = web.post(
        url,
        {
            "action": f"signoff:{assessment.uuid}",
            f"{prefix}-cleared": "yes",
            f"{prefix}-note": "Fine.",
        },
        follow=True,
    )
    assert "The course moved on to dosing." in response.content.decode()
    assert AssessmentSignOff.objects.get().cleared
    assert Course.objects.get(pk=course.pk).stage == Stage.DOSING


def test_the_series_is_ended_early_on_the_course_page(
    staff_login, dosing_session, dosing_course, therapist
):
    web = staff_login(therapist)
    url = course_page(dosing_course)
    response = web.post(url, {"action": "end_series", "end_series-reason": ""})
    assert "This field is required." in response.content.decode()
    response = web.post(
        url, {"action": "end_series", "end_series-reason": "Remission."}, follow=True
    )
    assert "The series has ended: the course moved on to integrate." in response.content.decode()
    assert Course.objects.get(pk=dosing_course.pk).stage == Stage.INTEGRATE


# --- The clinical day ----------------------------------------------------------------------------


def test_the_day_lists_sessions_and_assessments_and_logs_each_row(
    staff_login, dosing_session, dosing_course, therapist, coordinator, medical_practitioner
):
    assessment = preparation_at(dosing_course, medical_practitioner, start=minutes_ago(300))
    day = timezone.localdate(dosing_session.appointment.start, timezone=dosing_course.clinic.zone)
    url = f"{reverse('dosing:record_day')}?day={day.isoformat()}"
    page = staff_login(therapist).get(url).content.decode()
    assert page_of(dosing_session) in page and course_page(dosing_course) in page
    assert logged(therapist, dosing_session) == 1 and logged(therapist, assessment) == 1
    page = staff_login(coordinator).get(url).content.decode()
    assert str(dosing_course.client.user) in page
    assert page_of(dosing_session) not in page  # who and where, not the clinical record
    assert str(AppointmentKind.MEDICAL_ASSESSMENT.label) in page


def test_the_day_reads_in_a_fixed_number_of_queries(
    staff_login, dosing_session, dosing_course, therapist, medical_practitioner
):
    """The clinical day at two sizes: one session and one assessment, then
    five sessions, five assessments and forty courses (two pages)."""
    from clinic.models import StaffRole
    from clinic.tests.factories import client_create, staff_create
    from sessions.tests.factories import in_stage

    clinic = dosing_course.clinic
    start = dosing_session.appointment.start
    day = timezone.localdate(start, timezone=clinic.zone)
    url = f"{reverse('dosing:record_day')}?day={day.isoformat()}"
    preparation_at(dosing_course, medical_practitioner, start=start - timedelta(hours=2))
    web = staff_login(therapist)
    counts = []
    for size in ("small", "large"):
        if size == "large":
            for i in range(40):
                course = in_stage(
                    client_create(clinic=clinic), Stage.PREPARE if i % 2 else Stage.DOSING
                )
                if i < 4:
                    session_at(
                        course,
                        staff_create(role=StaffRole.THERAPIST, clinics=[clinic]),
                        staff_create(role=StaffRole.MEDICAL_PRACTITIONER, clinics=[clinic]),
                        start=start,
                    )
                    preparation_at(
                        course,
                        staff_create(role=StaffRole.MEDICAL_PRACTITIONER, clinics=[clinic]),
                        start=start - timedelta(hours=2),
                    )
        web.get(url)  # warm the session and the user
        with CaptureQueriesContext(connection) as queries:
            response = web.get(url)
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    assert counts[0] <= 12, counts


def test_the_days_courses_are_read_a_page_at_a_time_from_their_index(dosing_course):
    """The clinical day's courses come in the page's order from their partial
    index, so a page costs 25 rows whatever the clinic's size (the plan
    without it joined and sorted every course: 177 ms at 100,000 clients).
    Sequential scans are turned off: the test's tables are too small for
    the planner to prefer an index otherwise."""
    from sessions.selectors.record import day_courses

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = day_courses(clinic=dosing_course.clinic)[:25].explain()
    assert "course_prepare_dosing_idx" in plan, plan
    assert "Sort" not in plan, plan


@pytest.mark.parametrize("size", [1, 10])
def test_the_course_page_costs_the_same_queries_at_two_sizes(
    staff_login, dosing_course, therapist, medical_practitioner, size, django_assert_max_num_queries
):
    plan = None
    for i in range(size):
        plan = record.dose_plan_set(
            course=dosing_course,
            actor=medical_practitioner,
            route="nasal_spray",
            dose_mg=Decimal(50 + i),
            notes=f"Step {i}.",
            seen=plan.pk if plan else None,
        )
        session_at(
            dosing_course,
            therapist,
            medical_practitioner,
            start=minutes_ago(60 * 24 * (3 + 3 * i)),
            planned=size,
        )
        preparation_at(dosing_course, medical_practitioner, start=minutes_ago(60 * 24 * (40 + i)))
    web = staff_login(therapist)
    web.get(reverse("staff:home"))  # warm the session and permissions
    with django_assert_max_num_queries(10):
        response = web.get(course_page(dosing_course))
    assert response.status_code == 200
    page = response.content.decode()
    assert all(f"Step {i}." in page for i in range(size))
