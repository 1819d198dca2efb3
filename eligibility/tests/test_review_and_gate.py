"""Clinician review in the admin and the gate it opens: who may read a
screening (and that each read is logged), who may decide, what each
decision does to the course, and that nothing else moves a client from
connect to prepare."""

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinic import journey, outbox
from clinic.journey import JourneyError
from clinic.models import AccessLogEntry, Course, JourneyEvent, OutboxMessage, Stage
from clinic.tests.factories import client_create
from eligibility import services
from eligibility.models import Decision, Screening
from eligibility.screener import EXAMPLE_ANSWERS
from eligibility.tests.factories import decide, eligible_decision, submitted_screening
from intake.tests.factories import held_intake_call

CHANGELIST = reverse("admin:eligibility_screening_changelist")
# Things only the answers contain: none may reach a person who may not read them.
ANSWER_MARKERS = ("1985-04-23", "Date of birth", "Do you have heart disease?", "PHQ-9")
ANSWERS = {**EXAMPLE_ANSWERS, "heart_disease": "yes"}


def change_url(screening) -> str:
    return reverse("admin:eligibility_screening_change", args=[screening.pk])


def decide_url(screening) -> str:
    return reverse("admin:eligibility_screening_decide", args=[screening.pk])


def course_of(client_profile) -> Course:
    return client_profile.courses.get()


@pytest.fixture
def screening(client_a):
    return submitted_screening(
        course_of(client_a),
        answers=ANSWERS,
        outcome="needs_review",
        reasons=["heart_disease"],
        days_ago=2,
    )


def _no_answers(response) -> bool:
    text = response.content.decode()
    return not any(marker in text for marker in ANSWER_MARKERS)


# --- Reading ------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["therapist", "medical_practitioner"])
def test_a_clinician_of_the_clinic_sees_the_list_and_the_screening(
    request, staff_login, screening, client_a, who
):
    clinician = request.getfixturevalue(who)
    web = staff_login(clinician)

    listing = web.get(CHANGELIST)
    assert listing.status_code == 200
    assert str(client_a.user) in listing.content.decode()

    page = web.get(change_url(screening))
    assert page.status_code == 200
    text = page.content.decode()
    for section in ("About you", "Physical health", "Mood (PHQ-9)", "Anxiety (GAD-7)"):
        assert f"<h2>{section}</h2>" in text
    assert "Do you have heart disease?" in text
    # The reason in a clinician's words: not the client's sentence, not its code.
    reasons = text.split('data-testid="reasons"')[1].split("</ul>")[0]
    assert "Heart disease" in reasons
    assert "heart_disease" not in text
    assert "review first" not in text
    words = " ".join(re.sub(r"<[^>]+>", " ", text).split())
    assert "10 (Moderate)" in words  # PHQ-9 with its band
    assert "4 (Minimal)" in words  # GAD-7 with its band
    assert "Record a decision" in text


@pytest.mark.parametrize("who", ["therapist", "medical_practitioner"])
def test_each_read_of_a_screening_is_logged(request, staff_login, screening, client_a, who):
    clinician = request.getfixturevalue(who)
    web = staff_login(clinician)
    web.get(change_url(screening))
    web.get(change_url(screening))
    entries = AccessLogEntry.objects.filter(actor=clinician)
    assert entries.count() == 2
    entry = entries.first()
    assert (entry.client, entry.object_type, entry.object_id) == (
        client_a,
        "eligibility.screening",
        str(screening.uuid),
    )
    assert entry.path == change_url(screening)


def test_the_list_of_screenings_with_scores_is_logged_too(staff_login, screening, therapist):
    staff_login(therapist).get(CHANGELIST)
    assert AccessLogEntry.objects.filter(actor=therapist).exists()


@pytest.mark.parametrize("who", ["coordinator", "privacy_officer"])
def test_a_coordinator_or_privacy_officer_cannot_read_the_answers(
    request, staff_login, screening, who
):
    person = request.getfixturevalue(who)
    web = staff_login(person)
    for url in (CHANGELIST, change_url(screening), decide_url(screening)):
        response = web.get(url)
        assert response.status_code in (302, 403), url
        assert _no_answers(response)
    index = web.get(reverse("admin:index"))
    assert CHANGELIST not in index.content.decode()
    assert not AccessLogEntry.objects.exists()


def test_another_clinics_therapist_finds_no_screening(
    staff_login, screening, client_a, other_clinic_therapist
):
    web = staff_login(other_clinic_therapist)
    listing = web.get(CHANGELIST)
    assert listing.status_code == 200
    assert str(client_a.user) not in listing.content.decode()
    assert list(listing.context["cl"].result_list) == []
    page = web.get(change_url(screening))
    assert page.status_code in (302, 404)
    assert _no_answers(page)
    assert web.post(decide_url(screening), {"kind": "eligible", "note": "x"}).status_code == 404
    assert not AccessLogEntry.objects.exists()
    assert not Decision.objects.exists()


@pytest.mark.parametrize("who", ["client_a", "client_b"])
def test_clients_get_nothing_from_the_admin(request, screening, who):
    web = Client(HTTP_ACCEPT_LANGUAGE="en")
    web.force_login(request.getfixturevalue(who).user)
    for url in (CHANGELIST, change_url(screening), decide_url(screening)):
        response = web.get(url)
        assert response.status_code in (302, 403), url
        assert _no_answers(response)
    response = web.post(decide_url(screening), {"kind": "eligible", "note": "x"})
    assert response.status_code in (302, 403)
    assert not Decision.objects.exists()
    assert not AccessLogEntry.objects.exists()


# --- Deciding -------------------------------------------------------------------------


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_eligible_with_a_held_intake_call_moves_the_course_to_prepare(
    staff_login, screening, client_a, therapist
):
    held_intake_call(course_of(client_a), therapist)
    response = staff_login(therapist).post(
        decide_url(screening), {"kind": "eligible", "note": "A good fit for the program."}
    )
    assert response.status_code == 302
    assert response["Location"] == CHANGELIST
    assert _messages(response) == [
        "The decision is recorded and the client moves on to the prepare stage."
    ]
    assert course_of(client_a).stage == Stage.PREPARE
    event = JourneyEvent.objects.filter(to_stage=Stage.PREPARE).get()
    # The journey says what moved the course; the clinical note stays in the review.
    assert (event.from_stage, event.actor, event.reason) == (
        Stage.CONNECT,
        therapist,
        services.DECISION_EVENT_REASON,
    )
    decision = Decision.objects.get()
    assert (decision.kind, decision.clinician, decision.screening) == (
        "eligible",
        therapist,
        screening,
    )


def test_a_medical_practitioner_may_decide_too(
    staff_login, screening, client_a, medical_practitioner, therapist
):
    held_intake_call(course_of(client_a), therapist)
    staff_login(medical_practitioner).post(
        decide_url(screening), {"kind": "eligible", "note": "Blood pressure checked."}
    )
    assert course_of(client_a).stage == Stage.PREPARE


def test_eligible_without_a_held_intake_call_is_recorded_but_the_course_waits(
    staff_login, screening, client_a, therapist
):
    response = staff_login(therapist).post(
        decide_url(screening), {"kind": "eligible", "note": "A good fit."}
    )
    assert Decision.objects.get().kind == "eligible"
    assert course_of(client_a).stage == Stage.CONNECT
    assert not JourneyEvent.objects.filter(to_stage=Stage.PREPARE).exists()
    [message] = _messages(response)
    assert message.startswith("The decision is recorded. The course moves on by itself once")
    assert "The intake call must have taken place first." in message


def test_the_held_call_later_lets_the_recorded_decision_through(
    screening, client_a, therapist, staff_login
):
    staff_login(therapist).post(decide_url(screening), {"kind": "eligible", "note": "Fit."})
    held_intake_call(course_of(client_a), therapist)
    journey.course_transition(course=course_of(client_a), to_stage=Stage.PREPARE, actor=therapist)
    assert course_of(client_a).stage == Stage.PREPARE


def test_not_eligible_declines_the_course_and_keeps_the_note_out_of_the_journey(
    staff_login, screening, client_a, therapist
):
    note = "Your heart condition needs to be treated first; talk to your doctor."
    response = staff_login(therapist).post(
        decide_url(screening), {"kind": "not_eligible", "note": note}
    )
    assert _messages(response) == [
        "The decision is recorded and the course is closed as not eligible."
    ]
    assert course_of(client_a).stage == Stage.DECLINED
    event = JourneyEvent.objects.get(to_stage=Stage.DECLINED)
    assert (event.actor, event.reason) == (therapist, services.DECISION_EVENT_REASON)
    assert note not in event.reason  # coordinators read the journey, not the note


def test_more_information_reopens_the_screening_for_the_client(
    staff_login, screening, client_a, therapist
):
    staff_login(therapist).post(
        decide_url(screening),
        {"kind": "more_information", "note": "Please tell us about your heart disease."},
    )
    screening.refresh_from_db()
    assert screening.status == Screening.Status.DRAFT
    assert course_of(client_a).stage == Stage.CONNECT

    web = Client(HTTP_ACCEPT_LANGUAGE="en")
    web.force_login(client_a.user)
    assert web.get("/portal/screening/")["Location"] == "/portal/screening/review/"
    page = web.get("/portal/screening/physical-health/").content.decode()
    assert 'name="heart_disease" value="yes"' in page
    web.post(
        "/portal/screening/physical-health/",
        {
            "hypertension": "no",
            "heart_disease": "no",
            "stroke": "no",
            "seizures": "no",
            "liver_disease": "no",
            "thyroid": "no",
            "other_conditions": "A murmur as a child, checked: nothing found.",
        },
    )
    web.post("/portal/screening/review/")
    screening.refresh_from_db()
    assert screening.status == Screening.Status.SUBMITTED
    # Resent under the rules in force now: the condition described is looked at.
    assert (screening.outcome, screening.reasons) == ("needs_review", ["other_condition"])
    assert Screening.objects.filter(course__client=client_a).count() == 1


def _decision_emails():
    return OutboxMessage.objects.filter(kind=services.DECISION_EMAIL)


def test_more_information_on_an_old_screening_is_refused_once_a_new_one_is_started(
    staff_login, client_a, therapist
):
    old = submitted_screening(course_of(client_a), days_ago=200)
    new = services.screening_start(client=client_a)  # the old one is no longer current
    response = staff_login(therapist).post(
        decide_url(old), {"kind": "more_information", "note": "Tell us more."}
    )
    assert response.status_code == 200
    assert _messages(response) == [services.MSG_REOPEN_NEWER_SCREENING]
    assert not Decision.objects.exists() and not _decision_emails().exists()
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.status, new.status) == (Screening.Status.SUBMITTED, Screening.Status.DRAFT)


@pytest.mark.parametrize("stage", [Stage.ON_HOLD, Stage.PREPARE])
def test_more_information_is_refused_once_the_course_has_left_connect(
    staff_login, screening, client_a, therapist, stage
):
    extra = {"stage_before_hold": Stage.CONNECT} if stage == Stage.ON_HOLD else {}
    Course.objects.filter(client=client_a).update(stage=stage, **extra)
    response = staff_login(therapist).post(
        decide_url(screening), {"kind": "more_information", "note": "Tell us more."}
    )
    assert response.status_code == 200
    assert _messages(response) == [services.MSG_REOPEN_PAST_CONNECT % {"stage": Stage(stage).label}]
    assert not Decision.objects.exists() and not _decision_emails().exists()
    screening.refresh_from_db()
    assert screening.status == Screening.Status.SUBMITTED


@pytest.fixture
def decline_refused():
    """Another app's condition on closing a course in connect."""

    def guard(course):
        return ["An open invoice must be settled first."]

    journey.register_guard(Stage.CONNECT, Stage.DECLINED, guard)
    yield
    journey.unregister_guard(Stage.CONNECT, Stage.DECLINED, guard)


def test_not_eligible_is_refused_whole_when_the_journey_refuses_to_close_the_course(
    staff_login, screening, client_a, therapist, decline_refused
):
    response = staff_login(therapist).post(
        decide_url(screening), {"kind": "not_eligible", "note": "Not at present."}
    )
    assert response.status_code == 200
    assert _messages(response) == [
        services.MSG_NOT_DECLINED % {"why": "An open invoice must be settled first."}
    ]
    assert not Decision.objects.exists() and not _decision_emails().exists()
    assert course_of(client_a).stage == Stage.CONNECT


def test_not_eligible_is_refused_when_the_course_changed_in_the_meantime(
    screening, client_a, therapist, monkeypatch
):
    transition = journey.course_transition

    def put_on_hold_first(**kwargs):
        # Another staff member's change lands between the read and the move.
        Course.objects.filter(pk=kwargs["course"].pk).update(
            stage=Stage.ON_HOLD, stage_before_hold=Stage.CONNECT
        )
        return transition(**kwargs)

    monkeypatch.setattr(services.journey, "course_transition", put_on_hold_first)
    with pytest.raises(services.ScreeningError, match="The decision is not recorded"):
        services.decision_record(
            screening=screening, clinician=therapist, kind="not_eligible", note="x"
        )
    assert not Decision.objects.exists() and not _decision_emails().exists()


class _FormNesting(HTMLParser):
    """Which form a browser would submit each button with: nested <form>
    start tags are dropped by the HTML parser, so a button belongs to the
    outermost open form."""

    def __init__(self):
        super().__init__()
        self.open_forms: list[str] = []
        self.submits: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.open_forms.append(attrs.get("action") or "")
        elif tag == "input" and attrs.get("type") == "submit" and self.open_forms:
            self.submits[attrs.get("value", "")] = self.open_forms[0]

    def handle_endtag(self, tag):
        if tag == "form" and self.open_forms:
            self.open_forms.pop()


def test_the_record_button_on_the_screening_page_posts_to_the_decision(
    staff_login, screening, therapist
):
    page = staff_login(therapist).get(change_url(screening)).content.decode()
    parser = _FormNesting()
    parser.feed(page)
    assert parser.submits["Record the decision"] == decide_url(screening)


def _resubmit_after_more_information(web, screening, client_a):
    web.post(decide_url(screening), {"kind": "more_information", "note": "Tell us more."})
    client_web = Client(HTTP_ACCEPT_LANGUAGE="en")
    client_web.force_login(client_a.user)
    client_web.post("/portal/screening/review/")
    screening.refresh_from_db()
    assert screening.status == Screening.Status.SUBMITTED
    return client_web


def test_a_resubmitted_screening_tells_the_client_it_is_being_reviewed(
    staff_login, screening, client_a, therapist
):
    held_intake_call(course_of(client_a), therapist)
    client_web = _resubmit_after_more_information(staff_login(therapist), screening, client_a)
    page = client_web.get("/portal/").content.decode()
    assert "Book your free intake call" not in page
    assert "We are reviewing your answers" in page


def test_a_resubmitted_screening_is_back_in_the_waiting_queue(
    staff_login, screening, client_a, therapist
):
    web = staff_login(therapist)
    _resubmit_after_more_information(web, screening, client_a)
    rows = web.get(CHANGELIST + "?waiting=undecided").context["cl"].result_list
    assert list(rows) == [screening]


def test_a_decided_screening_takes_no_second_decision(staff_login, screening, client_a, therapist):
    held_intake_call(course_of(client_a), therapist)
    web = staff_login(therapist)
    web.post(decide_url(screening), {"kind": "eligible", "note": "A good fit."})
    web.post(decide_url(screening), {"kind": "eligible", "note": "A good fit."})
    web.post(decide_url(screening), {"kind": "not_eligible", "note": "Changed my mind."})
    outbox.outbox_sweep()
    assert course_of(client_a).stage == Stage.PREPARE
    assert Decision.objects.count() == 1
    assert len([m for m in mail.outbox if m.to == [client_a.user.email]]) == 1


def test_a_note_is_required(staff_login, screening, client_a, therapist):
    response = staff_login(therapist).post(decide_url(screening), {"kind": "eligible", "note": ""})
    assert response.status_code == 200
    assert "Choose a decision and write a note." in _messages(response)
    assert not Decision.objects.exists()


def test_a_made_up_decision_kind_is_refused(staff_login, screening, therapist):
    response = staff_login(therapist).post(
        decide_url(screening), {"kind": "fast_track", "note": "x"}
    )
    assert response.status_code == 200
    assert not Decision.objects.exists()


def test_a_coordinators_decision_is_refused_and_changes_nothing(
    staff_login, screening, client_a, coordinator, therapist
):
    held_intake_call(course_of(client_a), therapist)
    response = staff_login(coordinator).post(
        decide_url(screening), {"kind": "eligible", "note": "Looks fine to me."}
    )
    assert response.status_code in (302, 403)
    assert not Decision.objects.exists()
    assert course_of(client_a).stage == Stage.CONNECT
    assert not mail.outbox


def test_the_service_refuses_a_coordinator_and_another_clinics_clinician(
    screening, coordinator, other_clinic_therapist
):
    from eligibility import services

    for person in (coordinator, other_clinic_therapist):
        with pytest.raises(services.ScreeningError, match="Only a therapist or a medical"):
            services.decision_record(
                screening=screening, clinician=person, kind="eligible", note="x"
            )
    assert not Decision.objects.exists()


def test_a_screening_older_than_the_clinics_period_cannot_be_eligible(
    staff_login, client_a, therapist
):
    old = submitted_screening(course_of(client_a), days_ago=200)
    held_intake_call(course_of(client_a), therapist)
    response = staff_login(therapist).post(decide_url(old), {"kind": "eligible", "note": "Fit."})
    assert response.status_code == 200
    assert any("too old to decide on" in m for m in _messages(response))
    assert not Decision.objects.exists()
    assert course_of(client_a).stage == Stage.CONNECT
    page = staff_login(therapist).get(change_url(old)).content.decode()
    assert "not current: the client must screen again" in page


def test_a_screening_just_inside_the_clinics_period_can_be_eligible(
    staff_login, client_a, therapist, clinic_qc
):
    recent = submitted_screening(course_of(client_a), days_ago=clinic_qc.screening_valid_days - 1)
    held_intake_call(course_of(client_a), therapist)
    staff_login(therapist).post(decide_url(recent), {"kind": "eligible", "note": "Fit."})
    assert course_of(client_a).stage == Stage.PREPARE


def test_a_draft_cannot_be_decided_on(staff_login, client_a, therapist):
    draft = Screening.objects.create(
        course=course_of(client_a),
        clinic=course_of(client_a).clinic,
        screener_version=1,
        rules_version="2026.1",
    )
    response = staff_login(therapist).post(decide_url(draft), {"kind": "eligible", "note": "x"})
    assert any("has not been sent yet" in m for m in _messages(response))
    assert not Decision.objects.exists()


@pytest.mark.parametrize(
    ("kind", "says"),
    [
        ("eligible", "Good news"),
        ("not_eligible", "The program is not the right fit for you at present."),
        ("more_information", "Their message and your answers are in the screener"),
    ],
)
def test_the_client_is_emailed_the_outcome_in_their_language(
    staff_login, screening, client_a, therapist, kind, says
):
    held_intake_call(course_of(client_a), therapist)
    note = "A note written for the client."
    staff_login(therapist).post(decide_url(screening), {"kind": kind, "note": note})
    assert mail.outbox == []  # the worker sends it

    outbox.outbox_sweep()

    [message] = [m for m in mail.outbox if m.to == [client_a.user.email]]
    assert client_a.user.preferred_language == "en"
    assert message.subject.startswith("Your screening with")
    assert says in message.body
    assert "9-8-8" in message.body
    assert "/portal/" in message.body
    # The note is read in the portal, behind sign-in, not in an e-mail.
    assert note not in message.body


@pytest.mark.parametrize(
    ("kind", "shown"),
    [("eligible", False), ("not_eligible", True)],
    ids=["eligible", "not eligible"],
)
def test_the_sent_page_shows_the_note_only_of_decisions_written_for_the_client(
    screening, client_a, therapist, kind, shown
):
    """The decision form tells clinicians that only 'not eligible' and 'more
    information' notes reach the client."""
    note = "Blood pressure 150/95 at the call: recheck before dosing."
    decide(screening, therapist, kind, note)
    web = Client(HTTP_ACCEPT_LANGUAGE="en")
    web.force_login(client_a.user)
    page = web.get(reverse("eligibility:submitted")).content.decode()
    assert 'data-testid="decision"' in page
    assert ("Blood pressure 150/95" in page) is shown


# --- The gate ---------------------------------------------------------------------------


def test_the_journey_refuses_connect_to_prepare_without_an_eligible_decision(client_a, therapist):
    held_intake_call(course_of(client_a), therapist)
    with pytest.raises(JourneyError, match="eligible decision"):
        journey.course_transition(
            course=course_of(client_a), to_stage=Stage.PREPARE, actor=therapist
        )
    assert course_of(client_a).stage == Stage.CONNECT


@pytest.mark.parametrize(
    "decision", ["not_eligible", "more_information"], ids=["not eligible", "more information"]
)
def test_only_an_eligible_decision_opens_the_gate(client_a, therapist, decision):
    held_intake_call(course_of(client_a), therapist)
    screening = submitted_screening(course_of(client_a))
    decide(screening, therapist, decision)
    with pytest.raises(JourneyError, match="eligible decision"):
        journey.course_transition(
            course=course_of(client_a), to_stage=Stage.PREPARE, actor=therapist
        )


def test_an_eligible_decision_on_a_screening_past_its_period_does_not_open_the_gate(
    client_a, therapist
):
    held_intake_call(course_of(client_a), therapist)
    eligible_decision(course_of(client_a), therapist, days_ago=200)
    with pytest.raises(JourneyError, match="eligible decision"):
        journey.course_transition(
            course=course_of(client_a), to_stage=Stage.PREPARE, actor=therapist
        )


def test_the_gate_opens_with_a_held_call_and_an_eligible_decision(client_a, therapist):
    held_intake_call(course_of(client_a), therapist)
    eligible_decision(course_of(client_a), therapist)
    course = journey.course_transition(
        course=course_of(client_a), to_stage=Stage.PREPARE, actor=therapist
    )
    assert course.stage == Stage.PREPARE


def test_an_eligible_decision_alone_does_not_skip_the_intake_call(client_a, therapist):
    eligible_decision(course_of(client_a), therapist)
    with pytest.raises(JourneyError, match="intake call"):
        journey.course_transition(
            course=course_of(client_a), to_stage=Stage.PREPARE, actor=therapist
        )


def test_the_staff_course_page_cannot_bypass_the_gate(staff_login, client_a, therapist):
    held_intake_call(course_of(client_a), therapist)
    course = course_of(client_a)
    response = staff_login(therapist).post(
        reverse("staff:course", args=[course.uuid]), {"to_stage": Stage.PREPARE, "reason": ""}
    )
    assert response.status_code == 200
    assert "eligible decision" in response.content.decode()
    assert course_of(client_a).stage == Stage.CONNECT


# --- The review queue --------------------------------------------------------------------


def _client_with_screening(clinic, email, **fields):
    profile = client_create(clinic=clinic, email=email)
    return submitted_screening(course_of(profile), **fields)


def test_the_list_shows_crisis_flags_first_then_the_oldest_waiting(
    staff_login, clinic_qc, therapist
):
    recent = _client_with_screening(clinic_qc, "recent@example.com", days_ago=1)
    oldest = _client_with_screening(clinic_qc, "oldest@example.com", days_ago=12)
    middle = _client_with_screening(clinic_qc, "middle@example.com", days_ago=5)
    flagged = _client_with_screening(clinic_qc, "flagged@example.com", days_ago=0)
    Screening.objects.filter(pk=flagged.pk).update(crisis_flag=True, crisis_at=timezone.now())

    listing = staff_login(therapist).get(CHANGELIST)

    assert list(listing.context["cl"].result_list) == [flagged, oldest, middle, recent]


def test_the_list_filters_by_outcome_and_by_waiting(staff_login, clinic_qc, therapist):
    likely = _client_with_screening(clinic_qc, "likely@example.com", days_ago=10)
    review = _client_with_screening(
        clinic_qc, "review@example.com", days_ago=4, outcome="needs_review"
    )
    fresh = _client_with_screening(clinic_qc, "fresh@example.com", days_ago=1)
    decided = _client_with_screening(clinic_qc, "decided@example.com", days_ago=20)
    decide(decided, therapist)
    web = staff_login(therapist)

    def rows(query):
        return set(web.get(CHANGELIST + query).context["cl"].result_list)

    # The queue opens on the screenings waiting for a decision, and says so.
    assert rows("") == rows("?waiting=undecided") == {likely, review, fresh}
    assert re.search(
        r'class="selected">\s*<a href="\?waiting=undecided"', web.get(CHANGELIST).content.decode()
    )
    assert rows("?outcome__exact=needs_review") == {review}
    assert rows("?outcome__exact=likely_eligible") == {likely, fresh}
    assert rows("?waiting=all&outcome__exact=likely_eligible") == {likely, fresh, decided}
    assert rows("?waiting=decided") == {decided}
    assert rows("?waiting=3") == {likely, review}
    assert rows("?waiting=7") == {likely}
    assert rows("?crisis_flag__exact=1") == set()


def test_the_lists_query_count_does_not_grow_with_the_screenings(staff_login, clinic_qc, therapist):
    web = staff_login(therapist)
    web.get(CHANGELIST)  # warm up the session and the content types

    def count_with(total):
        while Screening.objects.count() < total:
            n = Screening.objects.count()
            _client_with_screening(clinic_qc, f"queue{n}@example.com", days_ago=1 + n % 9)
        with CaptureQueriesContext(connection) as queries:
            response = web.get(CHANGELIST)
        assert response.status_code == 200
        assert len(response.context["cl"].result_list) == min(total, 25)  # a page
        return len(queries)

    with_10 = count_with(10)
    with_100 = count_with(100)
    assert with_100 == with_10


def test_a_decision_cannot_be_edited_or_deleted_in_the_admin(staff_login, screening, therapist):
    decision = decide(screening, therapist)
    web = staff_login(therapist)
    page = web.get(change_url(screening)).content.decode()
    assert 'name="decisions-0-note"' not in page
    decision.note = "changed"
    with pytest.raises(Exception, match="cannot be changed"):
        decision.save()
    assert Decision.objects.get().note == "x"


def test_a_waiting_screening_is_counted_in_days(staff_login, clinic_qc, therapist):
    waiting = _client_with_screening(clinic_qc, "waiting@example.com", days_ago=6)
    listing = staff_login(therapist).get(CHANGELIST)
    admin = listing.context["cl"].model_admin
    assert admin.waiting_days(waiting) == 6
    Screening.objects.filter(pk=waiting.pk).update(submitted_at=timezone.now() - timedelta(hours=1))
    waiting.refresh_from_db()
    assert admin.waiting_days(waiting) == 0
