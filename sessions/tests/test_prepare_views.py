"""The client's preparation pages and the staff page of a course's
preparation: what they show, what a bad or repeated form does, who gets a
404, what is logged, and query counts that do not grow with the data."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinic.calendar import appointment_book
from clinic.models import AccessLogEntry, AppointmentKind, Stage
from clinic.tests.factories import ClinicFactory, RoomFactory, client_create
from sessions.models import (
    Consent,
    DosePlan,
    DosingSettings,
    ModuleCompletion,
    SessionPreferences,
)
from sessions.selectors import prepare as selectors
from sessions.selectors.gates import current_module_versions
from sessions.services import prepare as services

from .factories import new_consent_version, put_in_stage, read_all_modules, sign

PORTAL = "/portal/preparation/"
TREATMENT_URL = "/portal/preparation/consents/treatment/"
FILMING_URL = "/portal/preparation/consents/filming/"


@pytest.fixture
def course(client_a):
    return put_in_stage(client_a.courses.get(), Stage.PREPARE)


@pytest.fixture
def web(client_a, course):
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(client_a.user)
    return browser


def french(user):
    """A French speaker's browser (a signed-in person's own choice wins)."""
    type(user).objects.filter(pk=user.pk).update(preferred_language="fr")
    browser = Client(HTTP_ACCEPT_LANGUAGE="fr")
    browser.force_login(user)
    return browser


def sign_post(course, kind="treatment", language="en", **overrides):
    document = selectors.document_in_force(kind=kind, language=language)
    return {
        "action": "sign",
        "sha256": document.sha256,
        "language": document.language,
        "typed_name": course.client.user.get_full_name(),
        "agree": "on",
        **overrides,
    }


def test_the_portal_shows_progress_and_the_next_module(web):
    page = web.get(PORTAL).content.decode()
    assert "0 of 5 modules read" in page
    assert 'aria-valuenow="0"' in page
    assert "Next: What to expect" in page
    assert "Not answered yet." in page


def test_the_portal_home_points_to_the_preparation(web):
    page = web.get(reverse("portal:home")).content.decode()
    assert "Prepare for your sessions" in page
    assert 'href="/portal/preparation/"' in page


def test_a_module_is_marked_read_once_and_the_next_one_opens(web, course):
    response = web.post("/portal/preparation/modules/what-to-expect/", {"version": "1"})
    assert response.status_code == 302
    assert response["Location"] == "/portal/preparation/modules/set-and-setting/"
    web.post("/portal/preparation/modules/what-to-expect/", {"version": "1"})  # double click
    assert ModuleCompletion.objects.filter(course=course).count() == 1
    page = web.get(PORTAL).content.decode()
    assert "1 of 5 modules read" in page and 'aria-valuenow="20"' in page


def test_a_module_updated_while_read_is_refused_with_a_message(web, course):
    version = current_module_versions()[0]
    services.module_publish(
        module=version.module,
        title_en="What to expect, revised",
        title_fr=version.title_fr,
        body_en=version.body_en,
        body_fr=version.body_fr,
        by=None,
    )
    response = web.post(
        "/portal/preparation/modules/what-to-expect/", {"version": "1"}, follow=True
    )
    assert "updated while you were reading" in response.content.decode()
    assert "What to expect, revised" in response.content.decode()
    assert not ModuleCompletion.objects.exists()


def test_a_module_read_before_an_update_shows_as_updated(web, course):
    read_all_modules(course)
    version = current_module_versions()[1]
    services.module_publish(
        module=version.module,
        title_en=version.title_en,
        title_fr=version.title_fr,
        body_en=version.body_en + "\n\nNew.",
        body_fr=version.body_fr,
        by=None,
    )
    page = web.get(PORTAL).content.decode()
    assert "Updated: please read again" in page and "4 of 5 modules read" in page


@pytest.mark.parametrize("payload", [{}, {"version": "x"}, {"version": "-3"}, {"version": "99"}])
def test_a_bad_module_form_saves_nothing(web, payload):
    response = web.post("/portal/preparation/modules/what-to-expect/", payload, follow=True)
    assert response.status_code == 200
    assert not ModuleCompletion.objects.exists()


def test_an_unknown_module_or_consent_kind_is_a_404(web):
    assert web.get("/portal/preparation/modules/nothing-here/").status_code == 404
    assert web.get("/portal/preparation/consents/marketing/").status_code == 404


def test_the_module_page_is_in_french_for_a_french_speaker(client_a, course):
    page = french(client_a.user).get("/portal/preparation/modules/set-and-setting/")
    assert "L’état d’esprit et le cadre" in page.content.decode()
    assert "J’ai lu ce module" in page.content.decode()


def test_the_consent_page_carries_the_fingerprint_of_the_text_it_shows(web):
    page = web.get(TREATMENT_URL).content.decode()
    document = selectors.document_in_force(kind="treatment", language="en")
    assert f'name="sha256" value="{document.sha256}"' in page
    assert "Informed consent to ketamine-assisted therapy" in page
    assert "This use is off-label" in page


def test_signing_from_the_page_records_the_ip_and_redirects(web, course):
    response = web.post(TREATMENT_URL, sign_post(course), REMOTE_ADDR="203.0.113.50")
    assert response.status_code == 302
    consent = Consent.objects.get()
    assert (consent.ip_address, consent.language, consent.decision) == (
        "203.0.113.50",
        "en",
        "signed",
    )
    web.post(TREATMENT_URL, sign_post(course))  # the same form sent again
    assert Consent.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"typed_name": "Someone Else"}, "does not match the name on your account"),
        ({"typed_name": ""}, "Type your full name to sign."),
        ({"agree": ""}, "Please tick the box to say that you agree."),
        ({"sha256": "f" * 64}, "changed while you were reading"),
        ({"sha256": "not-a-fingerprint"}, "Please correct what is marked below"),
        ({"language": "de"}, "Please correct what is marked below"),
    ],
)
def test_a_refused_signature_says_why_and_saves_nothing(web, course, overrides, message):
    response = web.post(TREATMENT_URL, {**sign_post(course), **overrides})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Consent.objects.exists()


def test_a_text_changed_while_reading_shows_the_new_text_to_sign(web, course):
    shown = sign_post(course)
    new_consent_version("treatment")
    response = web.post(TREATMENT_URL, shown)
    page = response.content.decode()
    assert "changed while you were reading" in page
    new = selectors.document_in_force(kind="treatment", language="en")
    assert new.version == 2 and f'value="{new.sha256}"' in page
    assert not Consent.objects.exists()


def test_a_refusal_is_in_french_for_a_french_speaker(client_a, course):
    response = french(client_a.user).post(
        TREATMENT_URL, sign_post(course, language="fr", typed_name="Personne")
    )
    assert "ne correspond pas au nom de votre compte" in response.content.decode()


def test_a_course_id_in_the_form_is_ignored_the_client_signs_for_their_own(web, course, client_b):
    other = client_b.courses.get()
    web.post(TREATMENT_URL, {**sign_post(course), "course": str(other.uuid)})
    assert Consent.objects.get().course == course
    assert not Consent.objects.filter(course=other).exists()


def test_filming_declined_given_then_withdrawn_from_the_portal(web, course):
    decline = {k: v for k, v in sign_post(course, "filming").items() if k in ("sha256", "language")}
    response = web.post(FILMING_URL, {**decline, "action": "decline"}, follow=True)
    assert "your sessions will not be filmed" in response.content.decode()
    response = web.post(FILMING_URL, sign_post(course, "filming"), follow=True)
    assert "Withdraw my consent to filming" in response.content.decode()
    response = web.post("/portal/preparation/filming/withdraw/", follow=True)
    assert "Your consent to filming is withdrawn" in response.content.decode()
    web.post("/portal/preparation/filming/withdraw/")  # a second click
    assert list(Consent.objects.order_by("pk").values_list("decision", flat=True)) == [
        "declined",
        "signed",
        "withdrawn",
    ]


def test_withdrawing_without_a_consent_says_so(web):
    response = web.post("/portal/preparation/filming/withdraw/", follow=True)
    assert "You have no consent to filming to withdraw." in response.content.decode()
    assert not Consent.objects.exists()


def test_the_client_rereads_what_they_signed_but_not_another_clients_answer(web, course, client_b):
    consent = sign(course)
    new_consent_version("treatment")
    page = web.get(f"/portal/preparation/answers/{consent.uuid}/").content.decode()
    assert "exactly as you were shown it" in page and "version 1" in page
    assert "A new paragraph." not in page  # version 1's text, not the one in force
    other = Client(HTTP_ACCEPT_LANGUAGE="en")
    other.force_login(client_b.user)
    assert other.get(f"/portal/preparation/answers/{consent.uuid}/").status_code == 404


def test_preferences_are_saved_with_a_normalised_phone(web, course):
    response = web.post(
        "/portal/preparation/preferences/",
        {
            "eye_shades": "yes",
            "sound": "silence",
            "escort_name": "Sam Roy",
            "escort_phone": "514 555 0199",
            "notes": "I get cold.",
        },
    )
    assert response.status_code == 302
    preferences = SessionPreferences.objects.get(course=course)
    assert preferences.escort_phone == "+15145550199"
    assert selectors.preferences_for(course) == preferences


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"escort_phone": "12"}, "Enter a phone number we can reach them at"),
        ({"escort_name": "", "escort_phone": "514 555 0199"}, "Please give the name"),
        ({"eye_shades": "maybe"}, "Select a valid choice"),
        ({"notes": "x" * 2001}, "at most 2000 characters"),
    ],
)
def test_bad_preferences_say_why_and_change_nothing(web, course, payload, message):
    services.preferences_save(
        course=course, eye_shades="no", sound="music", escort_name="A", escort_phone="", notes=""
    )
    valid = {"eye_shades": "yes", "sound": "silence", "escort_name": "Sam", "escort_phone": ""}
    response = web.post("/portal/preparation/preferences/", {**valid, **payload})
    assert response.status_code == 200
    assert message in response.content.decode()
    preferences = SessionPreferences.objects.get()
    assert (preferences.eye_shades, preferences.sound, preferences.escort_name) == (
        "no",
        "music",
        "A",
    )


def test_upcoming_appointments_show_local_time_and_the_day_of_instructions(
    client_a, course, therapist, medical_practitioner
):
    room = RoomFactory(clinic=course.clinic, name="Salle Fleuve")
    start = (timezone.now() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    appointment_book(
        clinic=course.clinic,
        kind=AppointmentKind.DOSING_SESSION,
        start=start,
        end=start + timedelta(hours=3),
        staff=[therapist, medical_practitioner],
        client=course.client,
        room=room,
    )
    DosingSettings.objects.create(
        clinic=course.clinic,
        day_of_instructions_en="Eat lightly at breakfast.",
        day_of_instructions_fr="Mangez léger au déjeuner.",
    )
    english = Client(HTTP_ACCEPT_LANGUAGE="en")
    english.force_login(client_a.user)
    page = english.get(PORTAL).content.decode()
    assert "Dosing session" in page and "Salle Fleuve" in page
    assert "Eat lightly at breakfast." in page
    local = timezone.localtime(start, course.clinic.zone)
    assert f"{local:%-I}:00" in page or f"{local:%H}:00" in page
    assert "Mangez léger au déjeuner." in french(client_a.user).get(PORTAL).content.decode()
    english.logout()


def test_the_dose_plan_shows_only_when_the_clinic_chooses(web, course, medical_practitioner):
    DosePlan.objects.create(
        course=course, route="nasal_spray", dose_mg="35.00", by=medical_practitioner
    )
    assert "Your dose plan" not in web.get(PORTAL).content.decode()
    DosingSettings.objects.create(clinic=course.clinic, portal_shows_dose_plan=True)
    assert "Your dose plan: Nasal spray, 35" in web.get(PORTAL).content.decode()


def test_a_client_in_connect_reads_but_cannot_act(client_a):
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(client_a.user)
    assert "opens once your intake call" in browser.get(PORTAL).content.decode()
    response = browser.post("/portal/preparation/modules/what-to-expect/", {"version": "1"})
    assert response.status_code == 302
    assert not ModuleCompletion.objects.exists()
    assert 'name="typed_name"' not in browser.get(TREATMENT_URL).content.decode()


# --- Staff --------------------------------------------------------------------------------


def test_a_clinician_reads_the_consents_and_each_read_is_logged(staff_login, course, therapist):
    signed = sign(course)
    services.preferences_save(
        course=course, eye_shades="yes", sound="music", escort_name="Sam", escort_phone="", notes=""
    )
    web = staff_login(therapist)
    page = web.get(f"/staff/preparation/{course.uuid}/").content.decode()
    assert "Informed consent to treatment v1" in page and signed.typed_name in page
    assert "203.0.113.7" in page
    logged = set(
        AccessLogEntry.objects.filter(actor=therapist).values_list("object_type", "object_id")
    )
    assert ("dosing.consent", str(signed.uuid)) in logged
    assert ("dosing.sessionpreferences", str(course.session_preferences.pk)) in logged
    assert ("clinic.course", str(course.uuid)) in logged


def test_coordinators_and_other_clinics_do_not_read_consents(
    staff_login, course, coordinator, other_clinic_therapist
):
    sign(course)
    assert staff_login(coordinator).get(f"/staff/preparation/{course.uuid}/").status_code == 403
    other = staff_login(other_clinic_therapist)
    assert other.get(f"/staff/preparation/{course.uuid}/").status_code == 404
    assert not AccessLogEntry.objects.exists()


def test_the_staff_page_names_what_the_gate_waits_for(staff_login, course, therapist):
    page = staff_login(therapist).get(f"/staff/preparation/{course.uuid}/").content.decode()
    assert "5 required preparation modules are not read yet." in page


# --- Query counts -------------------------------------------------------------------------


def _grow(course, size: int) -> None:
    """Other clients with answers, appointments and completions, and this
    client's own history growing too."""
    for _ in range(size):
        other = client_create(clinic=ClinicFactory())
        other_course = put_in_stage(other.courses.get(), Stage.PREPARE)
        read_all_modules(other_course)
        sign(other_course)
    for i in range(size):
        document = selectors.document_in_force(kind="filming", language="en")
        Consent.objects.create(
            course=course,
            document=document,
            decision=Consent.Decision.DECLINED,
            text_sha256=document.sha256,
            language="en",
            at=timezone.now() - timedelta(minutes=size - i),
        )


@pytest.mark.parametrize(
    ("path", "budget"),
    [
        # Each with the header's question: offer this client an intake call?
        (PORTAL, 20),
        ("/portal/preparation/modules/intentions/", 8),
        (TREATMENT_URL, 15),
        (FILMING_URL, 16),
    ],
)
def test_portal_page_query_count_does_not_grow_with_the_data(
    web, course, path, budget, django_assert_max_num_queries
):
    counts = []
    for size in (2, 12):
        _grow(course, size)
        with CaptureQueriesContext(connection) as queries:
            assert web.get(path).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    with django_assert_max_num_queries(budget):
        web.get(path)


# --- The admin ----------------------------------------------------------------------------


@pytest.fixture
def admin_web(staff_login, clinic_qc):
    from clinic.tests.factories import UserFactory

    return staff_login(UserFactory(email="admin@example.com", is_staff=True, is_superuser=True))


def test_editing_a_module_in_the_admin_publishes_a_new_version(admin_web, course):
    from sessions.models import PreparationModule

    read_all_modules(course)
    module = PreparationModule.objects.get(slug="intentions")
    version = module.versions.get()
    url = reverse("admin:dosing_preparationmodule_change", args=[module.pk])
    assert "An intention is a simple statement" in admin_web.get(url).content.decode()
    response = admin_web.post(
        url,
        {
            "slug": "intentions",
            "order": "40",
            "required": "on",
            "is_active": "on",
            "title_en": version.title_en,
            "title_fr": version.title_fr,
            "body_en": version.body_en + "\n\nA new closing thought.",
            "body_fr": version.body_fr,
            "versions-TOTAL_FORMS": "0",
            "versions-INITIAL_FORMS": "1",
        },
        follow=True,
    )
    assert "Version 2 is published" in response.content.decode()
    assert list(module.versions.order_by("number").values_list("number", flat=True)) == [1, 2]
    version.refresh_from_db()
    assert "closing thought" not in version.body_en
    state = next(s for s in selectors.module_progress(course).modules if s.slug == "intentions")
    assert state.state == "updated"


def test_a_consent_document_is_added_never_edited_in_the_admin(admin_web):
    from sessions.models import ConsentDocument

    document = ConsentDocument.objects.get(kind="treatment", version=1, language="en")
    change = admin_web.get(reverse("admin:dosing_consentdocument_change", args=[document.pk]))
    assert 'name="body"' not in change.content.decode()  # shown read-only
    response = admin_web.post(
        reverse("admin:dosing_consentdocument_add"),
        {
            "kind": "treatment",
            "version": "2",
            "language": "en",
            "title": "Informed consent, 2027",
            "body": "New wording.",
            "in_force_from_0": "2026-01-02",
            "in_force_from_1": "00:00:00",
        },
    )
    assert response.status_code == 302
    added = ConsentDocument.objects.get(version=2)
    from sessions.models import text_sha256

    assert added.sha256 == text_sha256("Informed consent, 2027", "New wording.")
    response = admin_web.post(
        reverse("admin:dosing_consentdocument_add"),
        {
            "kind": "treatment",
            "version": "1",
            "language": "fr",
            "title": "x",
            "body": "y",
            "in_force_from_0": "2026-01-02",
            "in_force_from_1": "00:00:00",
        },
    )
    assert "Version 2 exists already" in response.content.decode()


def test_clinicians_read_consents_in_the_admin_and_each_read_is_logged(
    staff_login, course, therapist, coordinator
):
    consent = sign(course)
    web = staff_login(therapist)
    assert web.get(reverse("admin:dosing_consent_changelist")).status_code == 200
    assert web.get(reverse("admin:dosing_consent_change", args=[consent.pk])).status_code == 200
    assert (
        AccessLogEntry.objects.filter(
            actor=therapist, object_type="dosing.consent", object_id=str(consent.uuid)
        ).count()
        == 2
    )
    other = staff_login(coordinator)
    assert other.get(reverse("admin:dosing_consent_changelist")).status_code == 403


def test_the_clients_data_export_holds_their_preparation(course):
    from clinic import exports

    sign(course)
    read_all_modules(course)
    services.preferences_save(
        course=course, eye_shades="yes", sound="music", escort_name="Sam", escort_phone="", notes=""
    )
    data = exports.client_export(course.client)["preparation"]
    assert len(data["modules_read"]) == 5
    assert data["consents"][0]["decision"] == "signed"
    assert data["consents"][0]["ip_address"] == "203.0.113.7"
    assert data["preferences"][0]["eye_shades"] == "yes"
    readable = exports.readable({"preparation": data}, zone=course.clinic.zone)
    assert readable[0].label == "Your preparation"


@pytest.mark.parametrize("size", [1, 10])
def test_the_staff_preparation_page_costs_the_same_queries_at_two_sizes(
    staff_login, course, therapist, size, django_assert_max_num_queries
):
    _grow(course, size)
    browser = staff_login(therapist)
    browser.get(reverse("staff:home"))  # warm the session and permissions
    with django_assert_max_num_queries(16):
        response = browser.get(f"/staff/preparation/{course.uuid}/")
    assert response.status_code == 200
    assert response.content.decode().count("<td>declined</td>") == size
