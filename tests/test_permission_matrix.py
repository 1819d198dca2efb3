"""Every URL the app has, for every kind of person, against one table.

The table is the app's access policy written down: a URL missing from it
fails the test, so no page ships without someone deciding who may open it.
Client B never gets anything of client A's (404, and a refused POST changes
nothing)."""

import re
import uuid
from datetime import timedelta
from html import unescape
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import Permission
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from clinic import calendar
from clinic.models import Course, JourneyEvent, Stage
from intake import services as intake_services
from intake.selectors import intake_slots
from intake.tests.factories import book_call, rules, weekly_availability
from intake.tests.factories import visitor as make_visitor
from sessions.models import Recording
from sessions.tests.recording_factories import filming_signed
from tests import permission_matrix_admin as admin_matrix

ACTORS = (
    "anonymous",
    "client_a",
    "client_b",
    "therapist",
    "medical_practitioner",
    "coordinator",
    "privacy_officer",
    "other_clinic_therapist",
)
CLIENTS = {"client_a", "client_b"}
CARE = {"therapist", "medical_practitioner", "coordinator"}
STAFF = CARE | {"privacy_officer", "other_clinic_therapist"}

OK, LOGIN, AWAY, FORBIDDEN, MISSING, BAD, NOT_ALLOWED = (
    "ok",
    "login",
    "away",
    "forbidden",
    "missing",
    "bad",
    "405",
)
ANY = "any page but an error"  # allauth's own views, tested by allauth: never a 5xx here


def everyone(outcome):
    return dict.fromkeys(ACTORS, outcome)


def rule(anonymous, clients, care, privacy_officer, other_clinic, client_b=None):
    table = {
        "anonymous": anonymous,
        "client_a": clients,
        "client_b": client_b or clients,
        "privacy_officer": privacy_officer,
        "other_clinic_therapist": other_clinic,
    }
    table.update(dict.fromkeys(CARE, care))
    return table


PORTAL = rule(LOGIN, OK, AWAY, AWAY, AWAY)
STAFF_PAGE = rule(LOGIN, FORBIDDEN, OK, FORBIDDEN, OK)
STAFF_OBJECT_OF_A = rule(LOGIN, FORBIDDEN, OK, FORBIDDEN, MISSING)
# The admin: every URL has its rule per role in tests/permission_matrix_admin.py
# (test_each_person_gets_what_the_admin_table_says below).
ADMIN = "the admin's own table"
# Clinical records: the clinic's therapists and medical practitioners only.
CLINICAL_OBJECT_OF_A = {**STAFF_OBJECT_OF_A, "coordinator": FORBIDDEN}
# Billing: the permission, not the role (coordinators hold it through their group).
BILLING_PAGE = {
    **STAFF_PAGE,
    "therapist": FORBIDDEN,
    "medical_practitioner": FORBIDDEN,
    "other_clinic_therapist": FORBIDDEN,
}
BILLING_OBJECT_OF_A = {
    **STAFF_OBJECT_OF_A,
    "therapist": FORBIDDEN,
    "medical_practitioner": FORBIDDEN,
}

POLICY = {
    # Public site and booking: open to all.
    **{
        name: everyone(OK)
        for name in (
            "public:home",
            "public:program",
            "public:conditions",
            "public:team",
            "public:faq",
            "intake:start",
            "intake:interest",
            "intake:slots",
            "intake:book",
            "healthz",
            "robots_txt",
        )
    },
    # Bearer links e-mailed to the person: whoever holds the link (by design).
    "intake:booked": everyone(OK),
    "intake:manage": everyone(OK),
    "intake:confirm": everyone(OK),
    "intake:interest_confirm": everyone(OK),
    "account_activate": everyone(BAD),  # the link of a person who has a password already
    "set_language": everyone(NOT_ALLOWED),  # POST only
    # A staff member's two-factor invitation: the link (here a wrong token),
    # and its set-up page, which needs a link opened in this session.
    "staff_invitation": everyone(BAD),
    "staff_invitation_enrol": everyone(BAD),
    "staff_invitation_done": rule(LOGIN, AWAY, AWAY, AWAY, AWAY),  # no codes just made
    "staff_invitation_needed": rule(LOGIN, AWAY, OK, OK, OK),
    # The client portal.
    "portal:home": PORTAL,
    "portal:verify_email": rule(LOGIN, OK, OK, OK, OK),
    "portal:my_data": PORTAL,
    # A copy of one's data asks for the password again first (re-authentication).
    "portal:my_data_download": rule(LOGIN, AWAY, AWAY, AWAY, AWAY),
    "portal:my_data_summary": rule(LOGIN, AWAY, AWAY, AWAY, AWAY),
    "eligibility:screener": rule(LOGIN, AWAY, AWAY, AWAY, AWAY),
    "eligibility:step": PORTAL,
    "eligibility:review": PORTAL,
    "eligibility:support": PORTAL,
    "eligibility:submitted": rule(LOGIN, AWAY, AWAY, AWAY, AWAY),
    "home_after_login": rule(LOGIN, AWAY, AWAY, AWAY, AWAY),
    # Staff pages: the care team of the clinic; never clients, never the privacy officer.
    "staff:home": STAFF_PAGE,
    "staff:course": STAFF_OBJECT_OF_A,
    "intake:staff_day": STAFF_PAGE,
    "intake:staff_call": STAFF_OBJECT_OF_A,
    "eligibility:staff_list": STAFF_PAGE,
    # Preparation in the portal: each client's own course only.
    "dosing:portal": PORTAL,
    "dosing:module": PORTAL,
    "dosing:consent": PORTAL,
    "dosing:preferences": PORTAL,
    "dosing:filming_withdraw": rule(LOGIN, NOT_ALLOWED, AWAY, AWAY, AWAY),  # POST only
    "dosing:consent_answer": rule(LOGIN, OK, AWAY, AWAY, AWAY, client_b=MISSING),
    # A course's consents and preferences: its clinic's clinicians, not coordinators.
    "dosing:staff_preparation": {
        **STAFF_OBJECT_OF_A,
        "coordinator": FORBIDDEN,
    },
    # The session record.
    "dosing:record_day": STAFF_PAGE,
    "dosing:record_course": CLINICAL_OBJECT_OF_A,
    "dosing:record_session": CLINICAL_OBJECT_OF_A,
    # The room board and scheduling: the care team, each at their own clinics.
    "dosing:board": STAFF_PAGE,
    "dosing:board_week": STAFF_PAGE,
    "dosing:booking_new": STAFF_PAGE,
    "dosing:booking_check": STAFF_PAGE,
    "dosing:client_options": STAFF_PAGE,
    "dosing:appointment": STAFF_OBJECT_OF_A,
    "dosing:appointment_move": STAFF_OBJECT_OF_A,
    "dosing:appointment_cancel": STAFF_OBJECT_OF_A,
    # A dosing session's recordings: clinicians of the clinic, never coordinators.
    "dosing:recordings": {**STAFF_OBJECT_OF_A, "coordinator": FORBIDDEN},
    # Watching one also needs the dedicated permission (the practitioner holds it
    # here), then the password again: re-authentication sends them away first.
    "dosing:recording_download": {
        **STAFF_OBJECT_OF_A,
        "therapist": FORBIDDEN,
        "coordinator": FORBIDDEN,
        "medical_practitioner": AWAY,
    },
    # Integration groups: coordinators schedule and change them; the care
    # team of the clinic sees them; facilitators (and coordinators) take attendance.
    "groups:staff_list": STAFF_PAGE,
    "groups:staff_new": {
        **STAFF_PAGE,
        "therapist": FORBIDDEN,
        "medical_practitioner": FORBIDDEN,
        "other_clinic_therapist": FORBIDDEN,
    },
    "groups:staff_group": STAFF_OBJECT_OF_A,
    "groups:staff_edit": {
        **STAFF_OBJECT_OF_A,
        "therapist": FORBIDDEN,
        "medical_practitioner": FORBIDDEN,
    },
    "groups:staff_meeting": STAFF_OBJECT_OF_A,
    "groups:attendance": {**STAFF_OBJECT_OF_A, "medical_practitioner": FORBIDDEN},
    "groups:portal_list": PORTAL,
    "groups:portal_enrol": rule(LOGIN, NOT_ALLOWED, AWAY, AWAY, AWAY),  # POST only
    "groups:portal_leave": rule(LOGIN, NOT_ALLOWED, AWAY, AWAY, AWAY),  # POST only
    # Measures: the client's own questionnaires and chart; the follow-ups
    # list for the care team (its scores tab for clinicians), a client's
    # chart for the clinicians of their clinic.
    "measures:portal": PORTAL,
    "measures:support": PORTAL,
    "measures:answer": rule(LOGIN, OK, AWAY, AWAY, AWAY, client_b=MISSING),
    "measures:staff_list": STAFF_PAGE,
    "measures:staff_chart": CLINICAL_OBJECT_OF_A,
    # Reconnect: the client's own page; closing a course's integration plan,
    # its clinic's clinicians.
    "reconnect:portal": PORTAL,
    # Integration sessions: the client books their own (another's dosing
    # session is a 404); the care team of the clinic books for them.
    "individual:portal": PORTAL,
    "individual:portal_book": rule(LOGIN, OK, AWAY, AWAY, AWAY, client_b=MISSING),
    "individual:portal_cancel": rule(LOGIN, AWAY, AWAY, AWAY, AWAY, client_b=MISSING),
    "individual:staff_course": STAFF_OBJECT_OF_A,
    "individual:staff_book": STAFF_OBJECT_OF_A,
    "individual:staff_cancel": {
        **STAFF_OBJECT_OF_A,
        "therapist": AWAY,
        "medical_practitioner": AWAY,
        "coordinator": AWAY,
    },
    "reconnect:plan": CLINICAL_OBJECT_OF_A,
    # Billing: the client's own documents in the portal (client B: 404).
    "billing:portal": PORTAL,
    "billing:estimate": PORTAL,
    "billing:estimate_pdf": PORTAL,
    "billing:portal_invoice": rule(LOGIN, OK, AWAY, AWAY, AWAY, client_b=MISSING),
    "billing:portal_breakdown": rule(LOGIN, OK, AWAY, AWAY, AWAY, client_b=MISSING),
    # Billing staff: billing's permissions, which the coordinators' group holds,
    # at their own clinics; clinicians and the privacy officer have none.
    "billing:staff_invoices": BILLING_PAGE,
    "billing:staff_billable": BILLING_PAGE,
    "billing:staff_draft": rule(LOGIN, FORBIDDEN, NOT_ALLOWED, FORBIDDEN, NOT_ALLOWED),  # POST only
    "billing:staff_invoice": BILLING_OBJECT_OF_A,
    "billing:staff_breakdown": BILLING_OBJECT_OF_A,
    # Year-end statements: the client's own (client B: 404); billing staff's
    # page, job, progress fragment and download at their own clinics.
    "billing:portal_statements": PORTAL,
    "billing:portal_statement_status": rule(LOGIN, OK, AWAY, AWAY, AWAY, client_b=MISSING),
    "billing:portal_statement_pdf": rule(LOGIN, OK, AWAY, AWAY, AWAY, client_b=MISSING),
    "billing:staff_statements": BILLING_PAGE,
    "billing:staff_statement_job": BILLING_OBJECT_OF_A,
    "billing:staff_statement_status": BILLING_OBJECT_OF_A,
    "billing:staff_statement_pdf": BILLING_OBJECT_OF_A,
}
ALLAUTH = (
    "account_login",
    "account_logout",
    "account_inactive",
    "account_signup",
    "account_reauthenticate",
    "account_request_reauthentication_code",
    "account_confirm_reauthentication_code",
    "account_email",
    "account_email_verification_sent",
    "account_change_password",
    "account_set_password",
    "account_reset_password",
    "account_confirm_login_code",
    "account_confirm_email",
    "account_reset_password_from_key_done",
    "account_reset_password_from_key",
    "account_reset_password_done",
    "mfa_index",
    "mfa_authenticate",
    "mfa_reauthenticate",
    "mfa_activate_totp",
    "mfa_deactivate_totp",
    "mfa_view_recovery_codes",
    "mfa_generate_recovery_codes",
    "mfa_download_recovery_codes",
    "usersessions_list",
)
POLICY.update({name: everyone(ANY) for name in ALLAUTH})


def all_routes():
    """(name, pattern) for every URL, admin included (admin routes by pattern)."""

    def walk(patterns, prefix="", namespace=None):
        for p in patterns:
            if isinstance(p, URLResolver):
                inner = (
                    f"{namespace}:{p.namespace}"
                    if namespace and p.namespace
                    else (p.namespace or namespace)
                )
                yield from walk(p.url_patterns, prefix + str(p.pattern), inner)
            elif isinstance(p, URLPattern):
                name = f"{namespace}:{p.name}" if namespace and p.name else p.name
                yield name, prefix + str(p.pattern)

    return list(walk(get_resolver().url_patterns))


def policy_for(name, pattern):
    if pattern.startswith("admin/"):
        return ADMIN if admin_matrix.admin_route(pattern) else None
    return POLICY.get(name)


def test_every_url_has_a_declared_rule():
    undeclared = [(n, p) for n, p in all_routes() if policy_for(n, p) is None]
    assert not undeclared, f"URLs with no access rule: {undeclared}"


@pytest.fixture
def world(
    clinic_qc,
    client_a,
    client_b,
    therapist,
    medical_practitioner,
    coordinator,
    privacy_officer,
    other_clinic_therapist,
    staff_login,
):
    """Client A with a booked intake call; everyone else ready to sign in."""
    rules(clinic_qc, minimum_notice_hours=0)
    weekly_availability(clinic_qc, therapist)
    slot = next(s for day in intake_slots(clinic=clinic_qc).values() for s in day)
    visitor = make_visitor(client_a.user.email)
    call = book_call(
        clinic_qc, slot.start, email=client_a.user.email, concern="anxiety", user=client_a.user
    )
    intake_services.booking_request(
        clinic=clinic_qc,
        start=slot.start + timedelta(hours=1),
        visitor=visitor,
        concern="anxiety",
        consent_to_contact=True,
        submission=uuid.uuid4(),
    )
    intake_services.interest_register(
        name="Sam",
        email="sam@example.com",
        concern="chronic_pain",
        clinic=None,
        language="en",
        consent=True,
        consent_page="/book/interest/",
        consent_wording="I agree.",
    )
    from clinic.models import OutboxMessage
    from sessions import content
    from sessions.models import Consent, ConsentDocument

    content.install()
    document = ConsentDocument.objects.get(kind="treatment", version=1, language="en")
    consent = Consent.objects.create(
        course=client_a.courses.get(),
        document=document,
        decision=Consent.Decision.SIGNED,
        typed_name=client_a.user.get_full_name(),
        text_sha256=document.sha256,
        language="en",
    )
    # The raw tokens of the e-mailed links, read from their e-mails' rows before they are sent.
    confirm_token = OutboxMessage.objects.get(kind=intake_services.CONFIRM_REQUEST).payload["token"]
    interest_token = OutboxMessage.objects.get(kind=intake_services.INTEREST_CONFIRM).payload[
        "token"
    ]
    medical_practitioner.user_permissions.add(
        Permission.objects.get(codename="download_recording", content_type__app_label="dosing")
    )
    people = {
        "client_a": client_a.user,
        "client_b": client_b.user,
        "therapist": therapist,
        "medical_practitioner": medical_practitioner,
        "coordinator": coordinator,
        "privacy_officer": privacy_officer,
        "other_clinic_therapist": other_clinic_therapist,
    }
    from demo.dosing_record import dosing_session_book
    from sessions.tests.record_factories import series_of

    dosing_session = dosing_session_book(
        series=series_of(client_a.courses.get(), 1, medical_practitioner),
        start=slot.start + timedelta(days=1),
        therapist=therapist,
        practitioner=medical_practitioner,
    )
    # A recording of client A's dosing session (the row only).
    recording = Recording.objects.create(
        session=dosing_session,
        consent=filming_signed(client_a.courses.get()),
        storage_name="0" * 32 + ".mp4",
        sha256="0" * 64,
        size=1,
        content_type="video/mp4",
        uploaded_by=therapist,
        retain_until=timezone.localdate() + timedelta(days=90),
    )
    # Client A's preparatory session in a room of the clinic, on the room board.
    from clinic.models import AppointmentKind, Room
    from sessions.models import PreparationAppointment

    office = Room.objects.create(clinic=clinic_qc, name="Bureau 2")
    session_start = slot.start + timedelta(days=2)
    preparation = PreparationAppointment.objects.create(
        appointment=calendar.appointment_book(
            clinic=clinic_qc,
            kind=AppointmentKind.PREPARATORY_SESSION,
            start=session_start,
            end=session_start + timedelta(hours=1),
            staff=[therapist],
            client=client_a,
            room=office,
        ),
        course=client_a.courses.get(),
        booked_by=coordinator,
    )
    # An integration group of the clinic, client A enrolled, the therapist facilitating.
    from integration.groups.models import Enrolment
    from integration.tests.group_factories import weekly_group

    group = weekly_group(
        clinic=clinic_qc,
        coordinator=coordinator,
        facilitators=[therapist],
        room=Room.objects.create(clinic=clinic_qc, name="Salle Cercle"),
        first_day=timezone.localdate() + timedelta(days=400),
        count=2,
    )
    enrolment = Enrolment.objects.create(
        group=group, client=client_a, status="enrolled", position=1
    )
    from integration.tests.measure_factories import follow_up

    invitation = follow_up(client_a.courses.get())
    # Client A's issued invoice for a preparatory session held a month ago;
    # the coordinator does the clinic's billing (the coordinators' group).
    from billing import services as billing_services
    from billing.tests.factories import billing_ready, billing_staff, held

    billing_ready(clinic_qc)
    people["coordinator"] = billing_staff(coordinator)
    month_ago = timezone.now().replace(microsecond=0) - timedelta(days=30)
    invoice = billing_services.invoice_draft(
        client=client_a,
        appointments=[held(client=client_a, start=month_ago, staff=[therapist])],
        actor=coordinator,
    )
    billing_services.invoice_issue(invoice=invoice, actor=coordinator)
    # Client A's year-end statement of last year, and the job that built it.
    from billing.models import Statement, StatementJob

    statement_job = StatementJob.objects.create(
        clinic=clinic_qc,
        client=client_a,
        year=timezone.localdate().year - 1,
        requested_by=client_a.user,
        status=StatementJob.Status.DONE,
        total=1,
        done=1,
    )
    statement = Statement.objects.create(
        clinic=clinic_qc,
        client=client_a,
        year=statement_job.year,
        job=statement_job,
        total_paid=0,
        pdf_en=b"%PDF-1.7 en",
        pdf_fr=b"%PDF-1.7 fr",
    )
    return {
        "statement_job": statement_job,
        "statement": statement,
        "invitation": invitation,
        "invoice": invoice,
        "people": people,
        "group": group,
        "meeting": group.meetings.first(),
        "enrolment": enrolment,
        "course": client_a.courses.get(),
        "call": call,
        "dosing_session": dosing_session,
        "appointment": preparation.appointment,
        "slot": slot,
        "clinic": clinic_qc,
        "confirm": confirm_token,
        "interest": interest_token,
        "login": staff_login,
        "consent": consent,
        "recording": recording,
    }


def concrete(pattern: str, world) -> str:
    """A real path for a URL pattern, filled with client A's objects."""
    replacements = {
        "<uuid:course_uuid>": str(world["course"].uuid),
        "<uuid:call_uuid>": str(world["call"].uuid),
        "<uuid:consent_uuid>": str(world["consent"].uuid),
        "<slug:module_slug>": "what-to-expect",
        "<str:kind>": "treatment",
        "<uuid:session_uuid>": str(world["dosing_session"].uuid),
        "<uuid:appointment_uuid>": str(world["appointment"].uuid),
        "<uuid:recording_uuid>": str(world["recording"].uuid),
        "<uuid:group_uuid>": str(world["group"].uuid),
        "<uuid:meeting_uuid>": str(world["meeting"].uuid),
        "<uuid:enrolment_uuid>": str(world["enrolment"].uuid),
        "<uuid:invitation_uuid>": str(world["invitation"].uuid),
        "<uuid:invoice_uuid>": str(world["invoice"].uuid),
        "<uuid:job_uuid>": str(world["statement_job"].uuid),
        "<uuid:statement_uuid>": str(world["statement"].uuid),
        "<uuid:client_uuid>": str(world["people"]["client_a"].client_profile.uuid),
        "<slug:clinic_slug>": world["clinic"].slug,
        "<str:slot_key>": world["slot"].key,
        "<slug:slug>": "about",
        "<str:uidb64>": "MQ",
        "<path:object_id>": "1",
        "(?P<url>.*)$": "nonexistent/",
        "^confirm-email/(?P<key>[-:\\w]+)/$": "confirm-email/not-a-key/",
        "^password/reset/key/(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)/$": "password/reset/key/1-not-a-key/",
    }
    path = "/" + pattern
    if "book/confirm/<str:token>/" in pattern:
        path = path.replace("<str:token>", world["confirm"])
    if "book/interest/confirm/<str:token>/" in pattern:
        path = path.replace("<str:token>", world["interest"])
    for key, value in replacements.items():
        path = path.replace(key, value)
    path = path.replace("<str:token>", intake_services.manage_token(world["call"]))
    return path


def outcome_of(response) -> str:
    code = response.status_code
    if code == 200:
        return OK
    if code in (301, 302):
        location = response["Location"]
        return LOGIN if "/accounts/login/" in location else AWAY
    return {403: FORBIDDEN, 404: MISSING, 400: BAD, 405: NOT_ALLOWED}.get(code, str(code))


def browser_for(actor, world):
    from django.test import Client

    if actor == "anonymous":
        return Client(HTTP_ACCEPT_LANGUAGE="en")
    user = world["people"][actor]
    if actor in STAFF:
        return world["login"](user)
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(user)
    return browser


def _session_state(browser):
    """The browser's session cookie and what its session holds, less the
    staff activity times (clinic.middleware writes them on a request; they
    end a session only after minutes this test never waits). Any other
    change (a logout, a rotated or cleared cookie, a flag set or dropped)
    makes it differ from the state just after signing in."""
    from importlib import import_module

    from django.conf import settings

    from clinic.middleware import _LAST_SEEN, _SIGNED_IN

    cookie = browser.cookies.get(settings.SESSION_COOKIE_NAME)
    if cookie is None or not cookie.value:
        return None
    store = import_module(settings.SESSION_ENGINE).SessionStore(cookie.value)
    data = {k: v for k, v in store.load().items() if k not in (_LAST_SEEN, _SIGNED_IN)}
    return cookie.value, store.session_key, data


@pytest.mark.parametrize("actor", ACTORS)
def test_each_person_gets_what_the_table_says_on_every_url(world, actor):
    browser = browser_for(actor, world)
    signed_in = _session_state(browser)
    wrong = []
    checked = 0
    signed_in_again = 0
    for name, pattern in all_routes():
        if pattern.startswith("admin/"):
            continue  # the admin's own table, below
        expected = policy_for(name, pattern)[actor]
        response = browser.get(concrete(pattern, world))
        got = outcome_of(response)
        checked += 1
        if expected == ANY:
            if response.status_code >= 500:
                wrong.append((name or pattern, "a server error"))
        elif isinstance(expected, set):
            if got not in expected:
                wrong.append((name or pattern, f"expected one of {sorted(expected)}, got {got}"))
        elif got != expected:
            wrong.append((name or pattern, f"expected {expected}, got {got}"))
        if actor in STAFF and _session_state(browser) != signed_in:
            # A logout, a re-authentication or a session-ending page must not
            # leak into the next URL: the person signs in again, afresh.
            browser = browser_for(actor, world)
            signed_in = _session_state(browser)
            signed_in_again += 1
    print(f"{actor}: {checked} URLs, signed in again {signed_in_again} times")
    assert checked > 75  # the admin's URLs are walked by their own test
    assert not wrong, wrong


def test_a_session_a_request_ended_or_changed_is_noticed(world):
    """The URL walk above signs a person in again only when _session_state
    moved: a sign-out, a new session key or a changed flag must move it;
    an ordinary page must not."""
    browser = browser_for("therapist", world)
    signed_in = _session_state(browser)
    assert signed_in is not None
    browser.get("/staff/")
    assert _session_state(browser) == signed_in
    session = browser.session
    session["a flag"] = True
    session.save()
    assert _session_state(browser) != signed_in
    browser = browser_for("therapist", world)
    signed_in = _session_state(browser)
    browser.post("/accounts/logout/")
    assert _session_state(browser) != signed_in


def test_client_b_changes_nothing_of_client_as_with_a_post(world):
    from django.test import Client

    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(world["people"]["client_b"])
    course = world["course"]
    before = JourneyEvent.objects.count()
    response = browser.post(
        f"/staff/courses/{course.uuid}/", {"to_stage": Stage.WITHDRAWN, "reason": "x"}
    )
    assert response.status_code == 403
    response = browser.post(
        f"/staff/intake/calls/{world['call'].uuid}/", {"outcome": "held", "notes": "x"}
    )
    assert response.status_code == 403
    response = browser.post(
        f"/staff/dosing/records/sessions/{world['dosing_session'].uuid}/",
        {"action": "vitals", "vitals-moment": "pre_dose", "vitals-systolic": "120"},
    )
    assert response.status_code == 403
    assert not world["dosing_session"].vitals.exists()
    appointment = world["appointment"]
    for action in ("cancel", "move"):
        response = browser.post(
            f"/staff/board/appointments/{appointment.uuid}/{action}/",
            {"version": 1, "date": "2030-01-01", "time": "09:00"},
        )
        assert response.status_code == 403
    invoice = world["invoice"]
    for payload in (
        {
            "action": "pay",
            "pay-method": "cash",
            "pay-amount": "1.00",
            "pay-submission": uuid.uuid4(),
        },
        {"action": "void"},
        {"action": "credit", "credit-reason": "x"},
    ):
        assert browser.post(f"/staff/billing/{invoice.uuid}/", payload).status_code == 403
    assert (
        browser.post(
            f"/staff/billing/clients/{world['people']['client_a'].client_profile.uuid}/draft/"
        ).status_code
        == 403
    )
    # Client B cannot ask for client A's statements (a staff URL) nor see them.
    from billing.models import StatementJob

    jobs = StatementJob.objects.count()
    response = browser.post(
        "/staff/billing/statements/",
        {"client": world["people"]["client_a"].client_profile.uuid, "year": "2025"},
    )
    assert response.status_code == 403
    assert StatementJob.objects.count() == jobs
    invoice.refresh_from_db()
    assert (invoice.status, invoice.payments.count(), invoice.credit_notes.count()) == (
        "issued",
        0,
        0,
    )
    appointment.refresh_from_db()
    assert (appointment.status, appointment.version) == ("booked", 1)
    assert Course.objects.get(pk=course.pk).stage == Stage.CONNECT
    assert JourneyEvent.objects.count() == before
    world["call"].appointment.refresh_from_db()
    assert world["call"].appointment.status == "booked"
    assert world["call"].appointment.start > timezone.now()


# --- The admin --------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_role_group_holds_exactly_what_the_admin_table_gives_the_role():
    """The groups (the data migration, clinic/roles.py) and this table say the
    same: a permission given to a role in one place only fails here."""
    from clinic.models import StaffRole

    for role in StaffRole.values:
        assert admin_matrix.group_permissions(role) == admin_matrix.expected_group_permissions(
            role
        ), role


def test_every_registered_admin_has_a_row_in_the_admin_table():
    from django.contrib import admin

    registered = {model._meta.label_lower for model in admin.site._registry}
    assert registered == set(admin_matrix.ADMIN_ACCESS)


@pytest.fixture
def admin_world(world, clinic_bc, other_clinic_therapist):
    return {
        **world,
        "objects": admin_matrix.admin_objects(world, clinic_bc, other_clinic_therapist),
        "clinic_bc": clinic_bc,
        "other_staff": other_clinic_therapist,
    }


def _admin_request(browser, method, path, data=None):
    if method == "GET":
        return browser.get(path)
    return browser.post(path, data or {})


@pytest.mark.parametrize("actor", ["anonymous", "client_a"])
def test_no_admin_url_opens_to_a_client_or_a_visitor(admin_world, actor):
    browser = browser_for(actor, admin_world)
    allowed = {LOGIN, AWAY} if actor == "anonymous" else {AWAY, FORBIDDEN}
    objects = admin_world["objects"]
    before = {label: admin_matrix.snapshot(pair[0]) for label, pair in objects.items()}
    wrong = []
    for pattern, kind, label in admin_matrix.admin_routes(all_routes()):
        if label is not None and kind not in ("changelist", "add"):
            path = admin_matrix.object_path(pattern, objects[label][0])
        elif kind == "view_on_site":
            path = admin_matrix.content_type_path(pattern, objects["clinic.course"][0])
        else:
            path = "/" + pattern.replace("(?P<url>.*)$", "nonexistent/")
            if kind == "app_list":
                path = "/admin/clinic/"
        for method in ("GET", "POST"):
            got = outcome_of(_admin_request(browser, method, path, {"post": "yes"}))
            if got not in allowed:
                wrong.append((method, path, got))
    assert not wrong, wrong
    after = {label: admin_matrix.snapshot(pair[0]) for label, pair in objects.items()}
    assert after == before


def _listed(response, obj) -> bool:
    changelist = response.context_data["cl"]
    return changelist.queryset.filter(pk=obj.pk).exists()


@pytest.mark.parametrize("actor", sorted(admin_matrix.ROLES))
def test_each_person_gets_what_the_admin_table_says(admin_world, actor):
    """Every admin URL, GET and POST, with the person's clinic's object and
    the other clinic's. Deleting one's own object comes last, after
    everything else was asked of it."""
    from django.contrib import admin

    browser = browser_for(actor, admin_world)
    objects = admin_world["objects"]
    mine = 1 if actor == "other_clinic_therapist" else 0
    clinic_of_others = admin_world["clinic"]
    if mine == 0:
        clinic_of_others = admin_world["clinic_bc"]
    other_staff = admin_world["other_staff"] if mine == 0 else admin_world["people"]["therapist"]
    before = {
        label: [admin_matrix.snapshot(obj) for obj in pair] for label, pair in objects.items()
    }
    wrong = []
    deletions = []

    def check(method, path, expected, data=None):
        response = _admin_request(browser, method, path, data)
        got = outcome_of(response)
        if got not in expected:
            wrong.append((method, path, f"expected {sorted(expected)}, got {got}"))
        return response

    checked = 0
    for pattern, kind, label in admin_matrix.admin_routes(all_routes()):
        checked += 1
        if label is None:
            if kind == "app_list":
                for app_label in admin_matrix.app_labels():
                    check(
                        "GET",
                        f"/admin/{app_label}/",
                        admin_matrix.expected_for_site(actor, kind, app_label),
                    )
                continue
            if kind == "view_on_site":
                path = admin_matrix.content_type_path(pattern, objects["clinic.course"][mine])
            else:
                path = "/" + pattern.replace("(?P<url>.*)$", "nonexistent/")
            check("GET", path, admin_matrix.expected_for_site(actor, kind))
            continue
        assert label in objects, f"admin_objects() makes no {label} to request"
        pair = objects[label]
        owner = mine if pair[1] is not None else 0  # a model no clinic owns: its one object
        own, others = pair[owner], pair[1 - owner]
        if kind == "changelist":
            path = "/" + pattern
            response = check(
                "GET", path, admin_matrix.expected_for_model(actor, kind, label, "GET")
            )
            if response.status_code == 200:
                if not _listed(response, own):
                    wrong.append(("GET", path, "the person's clinic's object is not listed"))
                if others is not None and _listed(response, others):
                    wrong.append(("GET", path, "the other clinic's object is listed"))
            model_admin = admin.site._registry[type(own)]
            for action in ["delete_selected", *(model_admin.actions or [])]:
                expected = admin_matrix.expected_for_model(actor, kind, label, "POST")
                if others is not None:
                    response = check(
                        "POST",
                        path,
                        expected,
                        {"action": action, "_selected_action": [others.pk], "post": "yes"},
                    )
                    if action == "export_csv" and others.entry_hash in response.text:
                        wrong.append(("POST", path, "the export holds the other clinic's entry"))
                # Without "post": the confirmation, nothing done.
                check("POST", path, expected, {"action": action, "_selected_action": [own.pk]})
            continue
        if kind == "add":
            path = "/" + pattern
            expected = admin_matrix.expected_for_model(actor, kind, label, "GET")
            check("GET", path, expected)
            model = type(own)
            count = model._default_manager.count()
            check(
                "POST",
                path,
                expected,
                admin_matrix.add_payload(label, clinic_of_others, other_staff),
            )
            if model._default_manager.count() != count:
                wrong.append(("POST", path, "added a row for the other clinic"))
            continue
        for index, obj in enumerate(pair):
            if obj is None:
                continue
            is_mine = index == owner
            path = admin_matrix.object_path(pattern, obj)
            for method in ("GET", "POST"):
                expected = admin_matrix.expected_for_object(actor, kind, label, method, is_mine)
                data = {"post": "yes"} if kind == "delete" else {"to_stage": Stage.DOSING}
                if kind == "delete" and method == "POST" and is_mine:
                    deletions.append((path, expected))
                    continue
                check(method, path, expected, data)
    for path, expected in deletions:
        check("POST", path, expected, {"post": "yes"})
    assert checked > 150
    assert not wrong, wrong
    for label, pair in objects.items():
        for index, obj in enumerate(pair):
            if obj is None:
                continue
            after = admin_matrix.snapshot(obj)
            deleted = index == mine and "d" in admin_matrix.letters(actor, label)
            if deleted:
                assert after is None, (label, "not deleted by a role allowed to")
            else:
                assert after == before[label][index], (label, index, "changed")


# --- Links in the admin lead somewhere the reader may go -----------------------------------

HREF = re.compile(r'href="([^"#]+)"')


def _links(html: str) -> set[str]:
    found = set()
    for href in HREF.findall(html):
        url = urlsplit(unescape(href))
        if url.scheme or url.netloc or not url.path.startswith("/"):
            continue  # another site, mailto:, javascript:
        if url.path.startswith(("/static/", "/media/")):
            continue
        found.add(url.path + (f"?{url.query}" if url.query else ""))
    return found


@pytest.mark.parametrize("actor", sorted(admin_matrix.ROLES))
def test_every_link_on_every_admin_page_opens_for_its_reader(admin_world, actor):
    """From the admin's index, every page the person reaches and every link
    on it: none answers 403 (a link to a page they may not open) or 404."""
    browser = browser_for(actor, admin_world)
    seen_paths: set[str] = set()
    queue = [("/admin/", None)]
    broken = []
    pages = 0
    while queue:
        url, page = queue.pop(0)
        path = urlsplit(url).path
        if path in seen_paths:
            continue  # a sort or a filter of a list already walked
        seen_paths.add(path)
        response = browser.get(url)
        if response.status_code in (403, 404) or response.status_code >= 500:
            broken.append((url, response.status_code, f"linked from {page}"))
            continue
        if response.status_code != 200 or not path.startswith("/admin/"):
            continue
        if "text/html" not in response.get("Content-Type", ""):
            continue
        pages += 1
        queue.extend((link, url) for link in sorted(_links(response.content.decode())))
    print(f"{actor}: {pages} admin pages walked, {len(seen_paths)} paths opened")
    assert pages > 5
    assert not broken, broken
