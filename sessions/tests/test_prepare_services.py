"""The preparation's rules, one test each: modules read per version, the
typed signature, the text shown, double submits, the filming consent's
answers and withdrawal, preferences, and the prepare -> dosing gate."""

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from clinic import journey
from clinic.models import JourneyEvent, OutboxMessage, Stage
from clinic.outbox import outbox_sweep
from clinic.tests.factories import client_create
from sessions import content
from sessions.models import (
    Consent,
    ConsentDocument,
    ModuleCompletion,
    PreparationModule,
    PreparationModuleVersion,
    SessionPreferences,
)
from sessions.selectors import prepare as selectors
from sessions.selectors.gates import (
    current_module_versions,
    filming_consent_active,
    modules_outstanding,
    treatment_consent_current,
)
from sessions.services import prepare as services

from .factories import assessment, clear, new_consent_version, put_in_stage, read_all_modules, sign

TREATMENT, FILMING = ConsentDocument.Kind.TREATMENT, ConsentDocument.Kind.FILMING


@pytest.fixture
def course(client_a):
    return put_in_stage(client_a.courses.get(), Stage.PREPARE)


def first_module():
    return current_module_versions()[0]


def document(kind=TREATMENT, language="en"):
    return selectors.document_in_force(kind=kind, language=language)


def signature(course, kind=TREATMENT, **overrides):
    doc = document(kind)
    arguments = {
        "course": course,
        "kind": kind,
        "language": doc.language,
        "shown_sha256": doc.sha256,
        "typed_name": course.client.user.get_full_name(),
        "agreed": True,
        "ip": "198.51.100.4",
        **overrides,
    }
    return services.consent_sign(**arguments)


# --- Content -------------------------------------------------------------------------------


def test_the_content_is_installed_once_in_both_languages():
    content.install()  # a second time changes nothing
    assert PreparationModule.objects.count() == len(content.MODULES) == 5
    assert PreparationModuleVersion.objects.filter(number=1).count() == 5
    for version in PreparationModuleVersion.objects.all():
        assert version.title_fr and version.title_en and version.body_fr and version.body_en
        assert "\u00a0:" in version.body_fr or ":" not in version.body_fr  # Quebec typography
    for kind in (TREATMENT, FILMING):
        assert {d.language for d in ConsentDocument.objects.filter(kind=kind, version=1)} == {
            "en",
            "fr",
        }
    treatment = document(TREATMENT).body
    for fact in ("off-label", "nasal spray", "sublingual", "withdraw", "Confidentiality"):
        assert fact in treatment
    filming = document(FILMING).body
    for fact in ("decline", "withdraw", "deleted", "90 days", "logged"):
        assert fact in filming


def test_a_documents_fingerprint_is_that_of_its_title_and_text():
    doc = document(TREATMENT, "fr")
    assert doc.sha256 == ConsentDocument.objects.get(pk=doc.pk).sha256
    from sessions.models import text_sha256

    assert doc.sha256 == text_sha256(doc.title, doc.body)


# --- Modules -------------------------------------------------------------------------------


def test_a_module_marked_read_twice_is_recorded_once(course):
    version = first_module()
    first, created = services.module_complete(
        course=course, module=version.module, version_number=version.number
    )
    again, created_again = services.module_complete(
        course=course, module=version.module, version_number=version.number
    )
    assert (created, created_again) == (True, False)
    assert first.pk == again.pk
    assert ModuleCompletion.objects.filter(course=course).count() == 1


def test_reading_a_module_is_refused_before_the_prepare_stage(client_a):
    course = client_a.courses.get()  # connect
    version = first_module()
    with pytest.raises(services.PrepareError, match="prepare or dosing stage"):
        services.module_complete(course=course, module=version.module, version_number=1)
    assert not ModuleCompletion.objects.exists()


def test_a_new_version_is_published_never_edited_and_must_be_read_again(course, therapist):
    version = first_module()
    services.module_complete(course=course, module=version.module, version_number=1)
    assert version.module_id not in {v.module_id for v in modules_outstanding(course)}

    published = services.module_publish(
        module=version.module,
        title_en=version.title_en,
        title_fr=version.title_fr,
        body_en=version.body_en + "\n\nOne more paragraph.",
        body_fr=version.body_fr,
        by=therapist,
    )

    assert published.number == 2 and published.published_by == therapist
    version.refresh_from_db()
    assert "One more paragraph" not in version.body_en  # version 1 as it was read
    assert version.module_id in {v.module_id for v in modules_outstanding(course)}
    state = next(s for s in selectors.module_progress(course).modules if s.slug == "what-to-expect")
    assert state.state == "updated"


def test_marking_an_earlier_version_read_is_refused_once_a_new_one_is_published(course):
    version = first_module()
    services.module_publish(
        module=version.module,
        title_en="What to expect (revised)",
        title_fr=version.title_fr,
        body_en=version.body_en,
        body_fr=version.body_fr,
        by=None,
    )
    with pytest.raises(services.PrepareError, match="updated while you were reading"):
        services.module_complete(course=course, module=version.module, version_number=1)
    assert not ModuleCompletion.objects.filter(course=course).exists()


def test_publishing_the_same_text_makes_no_version():
    version = first_module()
    with pytest.raises(services.PrepareError, match="nothing was published"):
        services.module_publish(
            module=version.module,
            title_en=version.title_en,
            title_fr=version.title_fr,
            body_en=version.body_en,
            body_fr=version.body_fr,
            by=None,
        )
    assert version.module.versions.count() == 1


def test_an_inactive_module_is_not_asked_for(course):
    module = PreparationModule.objects.get(slug="intentions")
    PreparationModule.objects.filter(pk=module.pk).update(is_active=False)
    assert "intentions" not in {v.module.slug for v in modules_outstanding(course)}
    assert selectors.module_progress(course).total == 4


# --- Consents ------------------------------------------------------------------------------


def test_a_signature_keeps_the_version_the_text_fingerprint_language_time_and_ip(course):
    consent, created = signature(course)
    assert created
    doc = document(TREATMENT)
    assert consent.document == doc and consent.document.version == 1
    assert consent.text_sha256 == doc.sha256
    assert consent.language == "en"
    assert consent.ip_address == "198.51.100.4"
    assert abs(consent.at - timezone.now()) < timedelta(seconds=5)
    assert consent.typed_name == course.client.user.get_full_name()
    assert treatment_consent_current(course) == consent


def test_the_name_typed_must_be_the_account_name_whatever_the_case_and_accents(clinic_qc):
    client = client_create(clinic=clinic_qc, first_name="Hélène", last_name="Côté-Lefèbvre")
    course = put_in_stage(client.courses.get(), Stage.PREPARE)
    with pytest.raises(services.PrepareError, match="Hélène Côté-Lefèbvre"):
        signature(course, typed_name="Hélène Tremblay")
    assert not Consent.objects.exists()
    consent, created = signature(course, typed_name="  helene  COTE lefebvre ")
    assert created and consent.typed_name == "helene  COTE lefebvre"


def test_the_name_mismatch_is_said_in_french_to_a_french_speaker(course):
    with translation.override("fr"), pytest.raises(services.PrepareError) as refused:
        signature(course, typed_name="Quelqu’un d’autre")
    assert "ne correspond pas au nom de votre compte" in str(refused.value)


def test_a_signature_needs_the_agreement_ticked(course):
    with pytest.raises(services.PrepareError, match="tick the box"):
        signature(course, agreed=False)
    assert not Consent.objects.exists()


def test_a_text_that_changed_while_the_client_read_is_not_signed(course):
    shown = document(TREATMENT)
    new_consent_version(TREATMENT)
    with pytest.raises(services.PrepareError, match="changed while you were reading"):
        signature(course, shown_sha256=shown.sha256)
    assert not Consent.objects.exists()


def test_a_fingerprint_that_is_not_the_documents_is_refused(course):
    with pytest.raises(services.PrepareError, match="changed while you were reading"):
        signature(course, shown_sha256="0" * 64)
    assert not Consent.objects.exists()


def test_signing_twice_records_one_signature(course):
    first, created = signature(course)
    second, created_again = signature(course)
    assert (created, created_again) == (True, False) and first.pk == second.pk
    assert Consent.objects.count() == 1


def test_a_new_treatment_version_in_force_asks_for_a_new_signature(course):
    old, _ = signature(course)
    assert treatment_consent_current(course) == old
    new_consent_version(TREATMENT)
    assert treatment_consent_current(course) is None
    status = selectors.consent_page(course=course, kind=TREATMENT, language="en").status
    assert status.state == "resign"
    new, created = signature(course)
    assert created and new.document.version == 2
    assert treatment_consent_current(course) == new


def test_a_version_not_yet_in_force_changes_nothing(course):
    old, _ = signature(course)
    new_consent_version(TREATMENT, in_force_from=timezone.now() + timedelta(days=7))
    assert treatment_consent_current(course) == old


def test_the_document_shown_is_in_the_clients_language_or_the_other_one():
    assert document(TREATMENT, "fr").language == "fr"
    ConsentDocument.objects.create(
        kind=TREATMENT,
        version=2,
        language="en",
        title="Informed consent v2",
        body="Only in English so far.",
        in_force_from=timezone.now() - timedelta(minutes=1),
    )
    assert document(TREATMENT, "fr").language == "en"


def test_filming_declined_then_given_then_withdrawn(course):
    doc = document(FILMING)
    declined, created = services.filming_decline(
        course=course, language="en", shown_sha256=doc.sha256
    )
    assert created and declined.decision == Consent.Decision.DECLINED
    assert filming_consent_active(course) is None

    given, _ = signature(course, FILMING)
    assert filming_consent_active(course) == given

    withdrawal, created = services.filming_withdraw(course=course, ip="192.0.2.9")
    assert created and withdrawal.withdraws == given
    assert withdrawal.decision == Consent.Decision.WITHDRAWN
    assert filming_consent_active(course) is None
    message = OutboxMessage.objects.get(kind=services.FILMING_WITHDRAWN)
    assert message.payload["course"] == str(course.uuid)
    assert message.payload["consent"] == str(given.uuid)
    # The handler is a placeholder the recordings service replaces: it runs and is done.
    assert outbox_sweep().sent >= 1
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT


def test_withdrawing_twice_records_one_withdrawal_and_queues_once(course):
    signature(course, FILMING)
    first, _ = services.filming_withdraw(course=course)
    second, created = services.filming_withdraw(course=course)
    assert not created and first.pk == second.pk
    assert Consent.objects.filter(decision=Consent.Decision.WITHDRAWN).count() == 1
    assert OutboxMessage.objects.filter(kind=services.FILMING_WITHDRAWN).count() == 1


def test_there_is_nothing_to_withdraw_without_a_signature(course):
    with pytest.raises(services.PrepareError, match="no consent to filming"):
        services.filming_withdraw(course=course)
    assert not Consent.objects.exists()


def test_a_consent_given_is_withdrawn_not_declined(course):
    given, _ = signature(course, FILMING)
    with pytest.raises(services.PrepareError, match="withdraw"):
        services.filming_decline(
            course=course, language="en", shown_sha256=document(FILMING).sha256
        )
    assert filming_consent_active(course) == given


def test_declining_twice_records_one_answer(course):
    doc = document(FILMING)
    services.filming_decline(course=course, language="en", shown_sha256=doc.sha256)
    _again, created = services.filming_decline(
        course=course, language="en", shown_sha256=doc.sha256
    )
    assert not created
    assert Consent.objects.count() == 1


def test_filming_can_be_withdrawn_in_any_stage(course):
    signature(course, FILMING)
    later = put_in_stage(course, Stage.INTEGRATE)
    _withdrawal, created = services.filming_withdraw(course=later)
    assert created


# --- Preferences ---------------------------------------------------------------------------


def test_preferences_are_saved_and_changed_in_place(course):
    services.preferences_save(
        course=course,
        eye_shades="yes",
        sound="silence",
        escort_name="Sam",
        escort_phone="+15145550199",
        notes="Cold easily.",
    )
    services.preferences_save(
        course=course, eye_shades="no", sound="music", escort_name="Sam", escort_phone="", notes=""
    )
    preferences = selectors.preferences_for(course)
    assert SessionPreferences.objects.count() == 1
    assert (preferences.eye_shades, preferences.sound) == ("no", "music")


def test_preferences_are_refused_outside_prepare_and_dosing(client_a):
    course = put_in_stage(client_a.courses.get(), Stage.ON_HOLD, Stage.PREPARE)
    with pytest.raises(services.PrepareError):
        services.preferences_save(
            course=course,
            eye_shades="yes",
            sound="music",
            escort_name="",
            escort_phone="",
            notes="",
        )
    assert not SessionPreferences.objects.exists()


# --- The gate ------------------------------------------------------------------------------


def test_the_gate_names_each_condition_still_unmet(course, medical_practitioner):
    unmet = selectors.prepare_gate_unmet(course)
    assert unmet == [
        "5 required preparation modules are not read yet.",
        "The consent to treatment in force is not signed.",
        "No medical assessment has been held and signed off as cleared for dosing.",
    ]


def test_a_clinician_cannot_move_a_course_to_dosing_before_the_gate_holds(course, therapist):
    with pytest.raises(journey.JourneyError, match="consent to treatment"):
        journey.course_transition(course=course, to_stage=Stage.DOSING, actor=therapist)
    course.refresh_from_db()
    assert course.stage == Stage.PREPARE


def test_an_assessment_held_but_not_cleared_keeps_the_gate_shut(course, medical_practitioner):
    read_all_modules(course)
    sign(course)
    clear(course, medical_practitioner, cleared=False)
    course.refresh_from_db()
    assert course.stage == Stage.PREPARE
    assert selectors.prepare_gate_unmet(course) == [
        "No medical assessment has been held and signed off as cleared for dosing."
    ]
    assert selectors.assessment_status(course).state == "not_cleared"


def test_signing_the_consent_last_moves_the_course_to_dosing_by_itself(
    course, medical_practitioner
):
    clear(course, medical_practitioner)
    read_all_modules(course)
    course.refresh_from_db()
    assert course.stage == Stage.PREPARE
    sign(course)
    course.refresh_from_db()
    assert course.stage == Stage.DOSING
    event = JourneyEvent.objects.filter(course=course).latest("pk")
    assert (event.from_stage, event.to_stage, event.reason, event.actor) == (
        Stage.PREPARE,
        Stage.DOSING,
        "Consent to treatment signed",
        course.client.user,
    )


def test_reading_the_last_module_moves_the_course_to_dosing_by_itself(course, medical_practitioner):
    clear(course, medical_practitioner)
    sign(course)
    versions = current_module_versions()
    for version in versions[:-1]:
        services.module_complete(course=course, module=version.module, version_number=1)
    course.refresh_from_db()
    assert course.stage == Stage.PREPARE
    services.module_complete(course=course, module=versions[-1].module, version_number=1)
    course.refresh_from_db()
    assert course.stage == Stage.DOSING
    assert JourneyEvent.objects.filter(course=course).latest("pk").reason == (
        "Preparation module read"
    )


def test_reading_an_updated_module_in_dosing_does_not_move_the_course_on(
    course, medical_practitioner
):
    clear(course, medical_practitioner)
    read_all_modules(course)
    sign(course)
    course.refresh_from_db()
    assert course.stage == Stage.DOSING
    version = first_module()
    services.module_publish(
        module=version.module,
        title_en=version.title_en + " (2)",
        title_fr=version.title_fr,
        body_en=version.body_en,
        body_fr=version.body_fr,
        by=None,
    )
    services.module_complete(course=course, module=version.module, version_number=2)
    course.refresh_from_db()
    assert course.stage == Stage.DOSING


# --- The next step -------------------------------------------------------------------------


def test_the_next_step_in_prepare_says_what_remains(course, medical_practitioner):
    step = selectors.prepare_next_step(course)
    assert "read 5 more preparation modules" in str(step.text)
    assert "sign your consent to treatment" in str(step.text)
    assert "session preferences" in str(step.text)
    assert "book your medical assessment" in str(step.text)
    assert step.url == "/portal/preparation/"

    assessment(course, medical_practitioner, held=False, hours_ago=-48)
    assert "is booked" in str(selectors.prepare_next_step(course).text)

    read_all_modules(course)
    sign(course)
    step = selectors.prepare_next_step(course)
    assert "modules" not in str(step.text) and "treatment" not in str(step.text)


def test_the_next_step_in_dosing_asks_for_a_new_signature_only_when_needed(course):
    sign(course)
    read_all_modules(course)
    dosing = put_in_stage(course, Stage.DOSING)
    assert selectors.dosing_next_step(dosing) is None
    new_consent_version(TREATMENT)
    step = selectors.dosing_next_step(dosing)
    assert step is not None and step.url == "/portal/preparation/consents/treatment/"


def test_the_journey_asks_this_app_for_the_next_step_in_prepare(course):
    assert journey.next_step(course).url == "/portal/preparation/"


def test_name_key_ignores_case_accents_hyphens_and_spaces():
    assert services.name_key(" Jean-François  O’Brien ") == services.name_key(
        "jean francois o brien"
    )
    assert services.name_key("Zoë") != services.name_key("Zoé Martin")
