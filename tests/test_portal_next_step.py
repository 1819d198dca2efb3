"""The portal's next step follows where the client really is in connect,
whose two conditions (an intake call held, an eligible decision on a current
screening) are met in either order; the site header stops offering an
intake call once one is booked or the course is past connect."""

import re
from datetime import timedelta

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinic import journey
from clinic.models import Appointment, Course, Stage
from clinic.tests.factories import ClinicFactory, client_create
from eligibility import screener, services
from eligibility.models import Screening
from eligibility.tests.factories import resent_after_more_information, sent_screening
from intake.services import manage_token
from intake.tests.factories import held_intake_call

PORTAL = reverse("portal:home")


def booked_call(course, clinician, *, days_ahead: int = 2):
    """An intake call booked `days_ahead` days from now."""
    call = held_intake_call(course, clinician, days_ago=-days_ahead)
    Appointment.objects.filter(pk=call.appointment_id).update(status=Appointment.Status.BOOKED)
    call.appointment.refresh_from_db()
    return call


def in_progress(client_profile):
    screening = services.screening_start(client=client_profile)
    step = screener.steps(screening.screener_version)[0]
    services.screening_save_step(
        screening=screening, step=step, answers={"date_of_birth": "1985-04-23", "province": "QC"}
    )


def more_information(client_profile, clinician):
    services.decision_record(
        screening=sent_screening(client_profile),
        clinician=clinician,
        kind="more_information",
        note="Tell us about your medications.",
    )


def eligible(client_profile, clinician):
    services.decision_record(
        screening=sent_screening(client_profile), clinician=clinician, kind="eligible", note="Fit."
    )


def too_old(client_profile):
    screening = sent_screening(client_profile)
    Screening.objects.filter(pk=screening.pk).update(
        submitted_at=timezone.now() - timedelta(days=400)
    )


CALLS = {
    "no call": lambda course, clinician: None,
    "call booked": booked_call,
    "call held": held_intake_call,
}
SCREENERS = {
    "not started": lambda client, clinician: None,
    "in progress": lambda client, clinician: in_progress(client),
    "sent": lambda client, clinician: sent_screening(client),
    "more information asked": more_information,
    "eligible": eligible,
    "too old": lambda client, clinician: too_old(client),
}
BOOK = "Book your free intake call"
FILL = "Fill in the eligibility screener"
REVIEWING = "We are reviewing your answers"
BOOKED = "Your intake call is booked"
ASKED = "Our clinical team asks for more information"
AGAIN = "Fill in the eligibility screener again"
# (call, screener): the next step's title, the screener's line in the
# list, and whether the header still offers to book an intake call.
TABLE = {
    ("no call", "not started"): (BOOK, "Not started", True),
    ("no call", "in progress"): (BOOK, "In progress: your answers are saved", True),
    ("no call", "sent"): (BOOK, "a clinician is reviewing your answers", True),
    ("no call", "more information asked"): (ASKED, "A clinician asks for more information", True),
    ("no call", "eligible"): (BOOK, "Eligible: a clinician confirmed", True),
    ("no call", "too old"): (BOOK, "Your last answers are too old", True),
    ("call booked", "not started"): (FILL, "Not started", False),
    ("call booked", "in progress"): (FILL, "In progress: your answers are saved", False),
    ("call booked", "sent"): (BOOKED, "a clinician is reviewing your answers", False),
    ("call booked", "more information asked"): (ASKED, "A clinician asks", False),
    ("call booked", "eligible"): (BOOKED, "Eligible: a clinician confirmed", False),
    ("call booked", "too old"): (AGAIN, "Your last answers are too old", False),
    ("call held", "not started"): (FILL, "Not started", False),
    ("call held", "in progress"): (FILL, "In progress: your answers are saved", False),
    ("call held", "sent"): (REVIEWING, "a clinician is reviewing your answers", False),
    ("call held", "more information asked"): (ASKED, "A clinician asks", False),
    ("call held", "too old"): (AGAIN, "Your last answers are too old", False),
}
CALL_LINES = {
    "no call": "Intake call (to do) Not booked yet · Book an intake call",
    "call booked": "Intake call (waiting) Booked for",
    "call held": "Intake call (done) Held on",
}


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def portal(client_profile) -> dict:
    web = Client(HTTP_ACCEPT_LANGUAGE="en")
    web.force_login(client_profile.user)
    html = web.get(PORTAL).content.decode()
    title = re.search(r'<h2 id="next-step-title"[^>]*>(.*?)</h2>', html, re.S).group(1).strip()
    tasks = (
        html.split('data-testid="stage-tasks"')[1].split("</ul>")[0]
        if "stage-tasks" in html
        else ""
    )
    return {
        "html": html,
        "title": title,
        "tasks": text_of(tasks),
        "header_book": 'data-testid="header-book"' in html,
    }


@pytest.mark.parametrize(("call", "screening"), list(TABLE), ids=[" + ".join(k) for k in TABLE])
def test_the_next_step_reflects_the_call_and_the_screener(client_a, therapist, call, screening):
    course = client_a.courses.get()
    made = CALLS[call](course, therapist)
    SCREENERS[screening](client_a, therapist)
    assert Course.objects.get(pk=course.pk).stage == Stage.CONNECT

    shown = portal(client_a)

    title, screener_line, header_book = TABLE[(call, screening)]
    assert shown["title"] == title
    assert CALL_LINES[call] in shown["tasks"]
    state = {"sent": "waiting", "eligible": "done"}.get(screening, "to do")
    assert f"Eligibility screener ({state}) " in shown["tasks"]
    assert screener_line in shown["tasks"].split("Eligibility screener")[1]
    assert shown["header_book"] is header_book
    # The screener is always within reach in connect, whether or not the call was held.
    if screening not in ("sent", "eligible"):
        assert 'href="/portal/screening/"' in shown["html"]
    if call == "call booked":
        # The link's signature carries the second it was made: compare up to it.
        link = reverse("intake:manage", args=[manage_token(made)])
        assert link.split(":")[0] in shown["html"]


def test_a_held_call_and_an_eligible_decision_move_the_client_on_and_the_header_stops_offering(
    client_a, therapist
):
    held_intake_call(client_a.courses.get(), therapist)
    eligible(client_a, therapist)
    shown = portal(client_a)
    assert shown["title"] == "Prepare for your sessions"
    assert shown["tasks"] == ""
    assert not shown["header_book"]
    assert "Book an intake call" not in shown["html"]


@pytest.mark.parametrize("stage", [Stage.PREPARE, Stage.ON_HOLD])
def test_the_header_offers_no_intake_call_past_connect_on_any_page(client_a, stage):
    extra = {"stage_before_hold": Stage.PREPARE} if stage == Stage.ON_HOLD else {}
    Course.objects.filter(client=client_a).update(stage=stage, **extra)
    web = Client(HTTP_ACCEPT_LANGUAGE="en")
    web.force_login(client_a.user)
    for url in (PORTAL, reverse("public:home"), reverse("public:faq")):
        assert 'data-testid="header-book"' not in web.get(url).content.decode(), url


def test_the_header_still_offers_an_intake_call_to_visitors_staff_and_clients_in_connect(
    client_a, staff_login, coordinator
):
    assert 'data-testid="header-book"' in Client().get(reverse("public:home")).content.decode()
    staff = staff_login(coordinator).get(reverse("public:home")).content.decode()
    assert 'data-testid="header-book"' in staff
    web = Client(HTTP_ACCEPT_LANGUAGE="en")
    web.force_login(client_a.user)
    assert 'data-testid="header-book"' in web.get(reverse("public:home")).content.decode()


def test_a_call_held_for_an_earlier_course_does_not_count_for_a_new_one(client_a, therapist):
    old = client_a.courses.get()
    held_intake_call(old, therapist, days_ago=30)
    journey.course_transition(
        course=old, to_stage=Stage.WITHDRAWN, actor=client_a.user, reason="Not now."
    )
    Course.objects.filter(pk=old.pk).update(opened_at=timezone.now() - timedelta(days=60))
    journey.course_open(client=client_a, actor=client_a.user)
    shown = portal(client_a)
    assert shown["title"] == BOOK
    assert shown["header_book"]


def test_everything_done_but_the_course_still_in_connect_says_so(client_a, therapist, monkeypatch):
    """Another app's condition holds the course in connect."""

    def waiting_for_billing(course):
        return ["A deposit must be paid first."]

    journey.register_guard(Stage.CONNECT, Stage.PREPARE, waiting_for_billing)
    try:
        held_intake_call(client_a.courses.get(), therapist)
        eligible(client_a, therapist)
        shown = portal(client_a)
    finally:
        journey.unregister_guard(Stage.CONNECT, Stage.PREPARE, waiting_for_billing)
    assert shown["title"] == "You are ready for the next stage"
    assert (
        "Intake call (done)" in shown["tasks"] and "Eligibility screener (done)" in shown["tasks"]
    )


def test_the_portal_in_french(client_a, therapist):
    from clinic.models import User

    User.objects.filter(pk=client_a.user_id).update(preferred_language="fr")
    booked_call(client_a.courses.get(), therapist)
    more_information(client_a, therapist)
    web = Client()
    web.force_login(client_a.user)
    page = text_of(web.get(PORTAL, HTTP_ACCEPT_LANGUAGE="fr").content.decode())
    assert "Notre équipe clinique vous demande des renseignements supplémentaires" in page
    assert "Appel d’accueil (en attente) Réservé pour" in page


# --- Query counts ------------------------------------------------------------------------


def _grow(clinic, size):
    """Other clients at every state, and more history for client A."""
    for i in range(size):
        other = client_create(clinic=clinic)
        if i % 2:
            sent_screening(other)


def test_the_portal_and_a_public_page_take_a_fixed_number_of_queries_for_a_client(
    clinic_qc, client_a, therapist
):
    booked_call(client_a.courses.get(), therapist)
    screening = sent_screening(client_a, heart_disease="yes")
    web = Client(HTTP_ACCEPT_LANGUAGE="en")
    web.force_login(client_a.user)
    counts = []
    for size in (3, 12):
        _grow(clinic_qc, size)
        # More submissions and decisions of client A's own screening too.
        resent_after_more_information(screening, therapist, heart_disease="no")
        row = []
        for url in (PORTAL, reverse("public:home")):
            caches["fragments"].clear()  # the page rendered, not read from memory
            with CaptureQueriesContext(connection) as queries:
                assert web.get(url).status_code == 200
            row.append(len(queries))
        counts.append(row)
    assert counts[0] == counts[1], counts


def test_a_visitor_pays_no_query_for_the_header(db):
    ClinicFactory()
    with CaptureQueriesContext(connection) as queries:
        Client().get(reverse("public:home"))
    assert not any("clinic_course" in q["sql"] for q in queries.captured_queries)
