"""The screener as a client lives it in the portal: ten steps with a progress
bar, save and finish later, what a step says about missing or wrong answers,
one screening however often it is sent, nobody else's answers, and the
crisis path, which must alert the clinical team even with the broker down."""

import time
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clinic import outbox
from clinic.models import Course, OutboxMessage, Stage
from clinic.tests.factories import client_create
from eligibility import rules, screener, services
from eligibility.models import QuestionnaireResponse, Screening
from eligibility.screener import EXAMPLE_ANSWERS

STEPS = screener.steps(screener.CURRENT)
SCREENER = "/portal/screening/"
REVIEW = "/portal/screening/review/"
SUPPORT = "/portal/screening/support/"


def step_url(slug: str) -> str:
    return f"/portal/screening/{slug}/"


def step_data(step, answers=EXAMPLE_ANSWERS) -> dict:
    """The POST a browser sends for `step` with these answers."""
    form = step.form
    if hasattr(form, "questionnaire"):
        values = answers[form.questionnaire.code]
        return {f"item_{i + 1}": str(v) for i, v in enumerate(values)}
    return {name: answers[name] for name in form.base_fields if name in answers}


def login(user) -> Client:
    web = Client(HTTP_ACCEPT_LANGUAGE="en")
    web.force_login(user)
    return web


def walk(web, slugs=None, answers=EXAMPLE_ANSWERS):
    """Post the given steps (all of them by default) as a client would."""
    responses = []
    for step in STEPS:
        if slugs is not None and step.slug not in slugs:
            continue
        responses.append(web.post(step_url(step.slug), step_data(step, answers)))
    return responses


def draft_of(client_profile) -> Screening:
    return Screening.objects.get(course__client=client_profile)


@pytest.fixture
def web(client, client_a):
    client.force_login(client_a.user)
    return client


# --- The walk -----------------------------------------------------------------


def test_the_screener_starts_at_the_first_step(web):
    response = web.get(SCREENER)
    assert response.status_code == 302
    assert response["Location"] == step_url("about")


def test_a_client_walks_all_ten_steps_and_sends_their_answers(web, client_a):
    assert len(STEPS) == 10
    for i, step in enumerate(STEPS):
        page = web.get(step_url(step.slug))
        assert page.status_code == 200
        assert f"Step {i + 1} of 10" in page.content.decode()
        response = web.post(step_url(step.slug), step_data(step))
        following = STEPS[i + 1].slug if i + 1 < len(STEPS) else None
        assert response.status_code == 302, step.slug
        assert response["Location"] == (step_url(following) if following else REVIEW)

    review = web.get(REVIEW)
    assert review.status_code == 200
    assert "Send my answers" in review.content.decode()
    sent = web.post(REVIEW)
    assert sent["Location"] == reverse("eligibility:submitted")

    screening = draft_of(client_a)
    assert screening.status == Screening.Status.SUBMITTED
    assert (screening.outcome, screening.reasons) == ("likely_eligible", [])
    assert (screening.phq9_score, screening.gad7_score) == (10, 4)
    assert (screening.screener_version, screening.rules_version) == (1, rules.CURRENT)
    assert screening.answers == EXAMPLE_ANSWERS
    bands = dict(QuestionnaireResponse.objects.values_list("questionnaire", "band"))
    assert bands == {"phq9": "moderate", "gad7": "minimal"}
    page = web.get(reverse("eligibility:submitted")).content.decode()
    assert "Thank you: your answers are with our clinical team" in page


def test_a_progress_bar_moves_forward_with_each_step(web):
    values = []
    for step in STEPS:
        page = web.get(step_url(step.slug)).content.decode()
        assert 'role="progressbar"' in page
        values.append(int(page.split('aria-valuenow="')[1].split('"')[0]))
        web.post(step_url(step.slug), step_data(step))
    review = web.get(REVIEW).content.decode()
    values.append(int(review.split('aria-valuenow="')[1].split('"')[0]))
    assert values == sorted(values)
    assert values[0] < values[5] < values[-1] <= 100


def test_the_review_lists_the_answers_as_the_client_chose_them(web):
    walk(web)
    page = web.get(REVIEW).content.decode()
    assert "Date of birth" in page
    assert "1985-04-23" in page
    assert "Depression" in page
    assert "More than half the days" in page  # a PHQ-9 answer of 2, in words
    assert "Some steps are not complete yet" not in page


def test_the_review_names_the_steps_still_missing_and_cannot_be_sent(web, client_a):
    walk(web, slugs={"about", "pregnancy"})
    page = web.get(REVIEW).content.decode()
    assert "Some steps are not complete yet" in page
    assert "Mental health history" in page
    response = web.post(REVIEW)
    assert response.status_code == 200
    assert "Some answers are missing" in response.content.decode()
    assert draft_of(client_a).status == Screening.Status.DRAFT


# --- Save and finish later ----------------------------------------------------------


def test_save_and_finish_later_keeps_the_answers_and_returns_to_the_portal(web, client_a):
    walk(web, slugs={"about"})
    response = web.post(
        step_url("pregnancy"), {**step_data(STEPS[1]), "save_and_leave": "1"}, follow=True
    )
    assert response.redirect_chain[0][0] == reverse("portal:home")
    assert "Your answers are saved. You can come back at any time." in response.content.decode()
    draft = draft_of(client_a)
    assert draft.answers["pregnant"] == "not_applicable"
    assert draft.current_step == "pregnancy"


def test_a_client_who_closes_the_tab_resumes_at_the_first_missing_step(client_a):
    first = login(client_a.user)
    walk(first, slugs={"about", "pregnancy", "mental-health"})
    del first  # the tab is closed

    later = login(client_a.user)  # a fresh session
    response = later.get(SCREENER)
    assert response["Location"] == step_url("physical-health")
    about = later.get(step_url("about")).content.decode()
    assert 'value="1985-04-23"' in about
    mental = later.get(step_url("mental-health")).content.decode()
    assert 'name="psychosis" value="no"' in mental
    assert mental.count("checked") >= 2
    assert Screening.objects.filter(course__client=client_a).count() == 1


def test_a_changed_answer_replaces_the_earlier_one(web, client_a):
    walk(web, slugs={"pregnancy"})
    web.post(step_url("pregnancy"), {"pregnant": "no", "nursing": "no"})
    draft = draft_of(client_a)
    assert (draft.answers["pregnant"], draft.answers["nursing"]) == ("no", "no")


# --- Bad input ----------------------------------------------------------------------


def test_a_step_with_missing_answers_says_what_is_missing_and_keeps_what_was_typed(web, client_a):
    typed = "Asthma since childhood, inhaler as needed"
    response = web.post(
        step_url("physical-health"),
        {"hypertension": "treated", "heart_disease": "no", "other_conditions": typed},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Some answers need your attention" in page
    assert "This field is required." in page
    assert page.count("This field is required.") == 4  # stroke, seizures, liver, thyroid
    assert typed in page
    assert 'name="hypertension" value="treated"' in page
    assert "checked" in page.split('value="treated"')[1][:80]
    assert not Screening.objects.filter(course__client=client_a, answers__has_key="stroke").exists()


def test_a_questionnaire_with_an_item_left_out_is_refused(web, client_a):
    data = step_data(STEPS[7])
    del data["item_4"]
    response = web.post(step_url("phq9"), data)
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert "phq9" not in draft_of(client_a).answers


def test_it_refuses_a_date_of_birth_in_the_future(web, client_a):
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = web.post(step_url("about"), {"date_of_birth": tomorrow, "province": "QC"})
    assert response.status_code == 200
    assert "The date of birth cannot be in the future." in response.content.decode()
    assert "date_of_birth" not in draft_of(client_a).answers


def test_it_refuses_an_impossible_date_of_birth_and_shows_what_was_typed(web, client_a):
    response = web.post(step_url("about"), {"date_of_birth": "2023-02-30", "province": "QC"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Enter a real date, for example 1985-04-23." in page
    assert 'value="2023-02-30"' in page
    assert "date_of_birth" not in draft_of(client_a).answers


def test_it_refuses_a_date_of_birth_more_than_120_years_ago(web):
    response = web.post(step_url("about"), {"date_of_birth": "1850-01-01", "province": "QC"})
    assert "Please check the year of your date of birth." in response.content.decode()


def test_a_value_that_is_not_one_of_the_choices_is_refused(web, client_a):
    response = web.post(step_url("mental-health"), {"psychosis": "maybe", "mania": "no"})
    assert response.status_code == 200
    assert "Select a valid choice." in response.content.decode()
    assert "psychosis" not in draft_of(client_a).answers


def test_an_unknown_step_is_not_found(web):
    assert web.get(step_url("not-a-step")).status_code == 404


def test_sending_the_review_twice_gives_one_screening(web, client_a):
    walk(web)
    first = web.post(REVIEW)
    second = web.post(REVIEW)
    assert first.status_code == second.status_code == 302
    assert second["Location"] == reverse("eligibility:submitted")
    assert Screening.objects.filter(course__client=client_a).count() == 1
    assert QuestionnaireResponse.objects.count() == 2
    assert OutboxMessage.objects.filter(kind=services.SUBMITTED_NOTICE).count() == 1
    # And a late step post from another tab changes nothing either.
    late = web.post(step_url("about"), {"date_of_birth": "1990-01-01", "province": "QC"})
    assert late.status_code == 302
    assert draft_of(client_a).answers["date_of_birth"] == "1985-04-23"


def test_the_service_refuses_a_second_submit_of_the_same_screening(web, client_a):
    walk(web)
    screening = draft_of(client_a)
    services.screening_submit(screening=screening)
    with pytest.raises(services.ScreeningError):
        services.screening_submit(screening=screening)
    assert Screening.objects.get().status == Screening.Status.SUBMITTED


def test_tampered_fields_on_the_review_do_not_change_the_outcome(web, client_a):
    walk(web, answers={**EXAMPLE_ANSWERS, "pregnant": "yes"})
    web.post(REVIEW, {"outcome": "likely_eligible", "reasons": "", "status": "submitted"})
    screening = draft_of(client_a)
    assert (screening.outcome, screening.reasons) == ("not_eligible", ["pregnant"])


def test_after_the_intake_call_the_portal_leads_to_the_screener_then_to_the_review(
    web, client_a, therapist
):
    from intake.tests.factories import held_intake_call

    held_intake_call(client_a.courses.get(), therapist)
    portal = reverse("portal:home")
    page = web.get(portal).content.decode()
    assert "Fill in the eligibility screener" in page
    assert "Start the screener" in page
    walk(web, slugs={"about"})
    assert "Continue the screener" in web.get(portal).content.decode()
    walk(web)
    web.post(REVIEW)
    assert "We are reviewing your answers" in web.get(portal).content.decode()


# --- Whose screening ------------------------------------------------------------


def test_another_client_never_sees_a_clients_answers(client_a, client_b):
    walk(login(client_a.user), slugs={"about", "pregnancy"})
    a_screening = draft_of(client_a)

    b = login(client_b.user)
    assert b.get(SCREENER)["Location"] == step_url("about")
    page = b.get(step_url("about")).content.decode()
    assert "1985-04-23" not in page
    assert draft_of(client_b) != a_screening
    assert draft_of(client_b).answers == {}


def test_it_sends_an_unverified_client_to_verify_their_email(clinic_qc):
    unverified = client_create(clinic=clinic_qc, email="new@example.com", verified=False)
    response = login(unverified.user).get(SCREENER)
    assert response["Location"] == reverse("portal:verify_email")
    assert not Screening.objects.exists()


def test_it_sends_a_visitor_to_sign_in(db, client):
    assert client.get(SCREENER)["Location"].startswith(reverse("account_login"))
    assert client.get(step_url("about"))["Location"].startswith(reverse("account_login"))


def test_staff_are_sent_to_their_own_pages(staff_login, therapist):
    web = staff_login(therapist)  # past the two-factor gate, which would stop them first
    assert web.get(SCREENER)["Location"] == reverse("home_after_login")
    assert web.get(reverse("home_after_login"))["Location"] == reverse("staff:home")


def test_a_client_past_connect_is_told_the_screening_stage_is_behind_them(client_a):
    Course.objects.filter(client=client_a).update(stage=Stage.PREPARE)
    web = login(client_a.user)
    for url in (SCREENER, step_url("about"), REVIEW):
        response = web.get(url)
        assert response.status_code == 200
        assert "Your course is past the screening stage." in response.content.decode()
    assert not Screening.objects.exists()


def test_a_client_without_a_course_in_progress_is_asked_to_book_an_intake_call(client_a):
    Course.objects.filter(client=client_a).update(stage=Stage.WITHDRAWN)
    page = login(client_a.user).get(SCREENER).content.decode()
    assert "You have no course in progress with the clinic." in page


def test_after_sending_the_screener_shows_the_sent_page_not_a_new_draft(web, client_a):
    walk(web)
    web.post(REVIEW)
    assert web.get(SCREENER)["Location"] == reverse("eligibility:submitted")
    assert web.get(step_url("about"))["Location"] == reverse("eligibility:submitted")
    assert Screening.objects.filter(course__client=client_a).count() == 1


def test_a_screening_older_than_the_clinics_period_is_filled_in_again(web, client_a):
    walk(web)
    web.post(REVIEW)
    Screening.objects.update(submitted_at=timezone.now() - timedelta(days=200))
    response = web.get(SCREENER)
    # A new draft that keeps only what does not go stale (date of birth, province):
    # mood, safety, health and medications are asked again.
    assert response["Location"] == step_url("pregnancy")
    drafts = Screening.objects.filter(course__client=client_a, status=Screening.Status.DRAFT)
    assert drafts.count() == 1
    assert drafts.get().answers == {k: EXAMPLE_ANSWERS[k] for k in ("date_of_birth", "province")}


# --- The crisis path ------------------------------------------------------------


def _until(slug):
    return {s.slug for s in STEPS[: [s.slug for s in STEPS].index(slug)]}


CRISIS_PHQ9 = {**EXAMPLE_ANSWERS, "phq9": [2, 2, 1, 2, 1, 1, 1, 0, 1]}


def test_phq9_item_9_above_0_opens_the_support_page_at_once(web, client_a, clinic_qc):
    walk(web, slugs=_until("phq9"))
    response = web.post(step_url("phq9"), step_data(STEPS[7], CRISIS_PHQ9))
    assert response.status_code == 302
    assert response["Location"].startswith(SUPPORT)
    assert response["Location"].endswith("?next=" + step_url("gad7"))

    page = web.get(response["Location"]).content.decode()
    assert "9-8-8" in page
    assert "911" in page
    assert clinic_qc.phone in page
    assert 'href="' + step_url("gad7") + '"' in page

    screening = draft_of(client_a)
    assert screening.crisis_flag
    assert screening.crisis_at is not None
    assert OutboxMessage.objects.filter(kind=services.CRISIS_ALERT).count() == 1


def test_the_same_signal_saved_again_alerts_once_and_a_new_one_alerts_again(web):
    walk(web, slugs=_until("phq9"))
    web.post(step_url("phq9"), step_data(STEPS[7], CRISIS_PHQ9))
    again = web.post(step_url("phq9"), step_data(STEPS[7], {**CRISIS_PHQ9, "phq9": [3] * 9}))
    assert again.status_code == 302
    assert OutboxMessage.objects.filter(kind=services.CRISIS_ALERT).count() == 1
    # A new signal (now the direct question) alerts the team again, and shows the resources again.
    response = web.post(step_url("safety"), {"safety_now": "yes"})
    assert response["Location"].startswith(SUPPORT)
    assert OutboxMessage.objects.filter(kind=services.CRISIS_ALERT).count() == 2


def test_yes_to_the_safety_question_opens_the_support_page_at_once(web, client_a):
    walk(web, slugs=_until("safety"))
    response = web.post(step_url("safety"), {"safety_now": "yes"})
    assert response["Location"] == f"{SUPPORT}?next={REVIEW}"
    page = web.get(response["Location"]).content.decode()
    assert "9-8-8" in page
    assert "911" in page
    assert draft_of(client_a).crisis_flag
    assert OutboxMessage.objects.filter(kind=services.CRISIS_ALERT).count() == 1


def test_no_crisis_signal_means_no_support_page_and_no_alert(web, client_a):
    responses = walk(web)
    assert not any(r["Location"].startswith(SUPPORT) for r in responses)
    assert not draft_of(client_a).crisis_flag
    assert not OutboxMessage.objects.filter(kind=services.CRISIS_ALERT).exists()


def test_the_support_page_does_not_follow_a_link_to_another_site(web):
    page = web.get(SUPPORT + "?next=https://evil.example/").content.decode()
    assert 'href="https://evil.example/"' not in page
    assert 'href="' + SCREENER + '">Continue the screener' in page


def test_a_flagged_screening_is_submitted_for_review_with_the_crisis_reason(web, client_a):
    walk(web, answers=CRISIS_PHQ9)
    web.post(REVIEW)
    screening = draft_of(client_a)
    assert (screening.outcome, screening.reasons) == ("needs_review", ["crisis"])
    page = web.get(reverse("eligibility:submitted")).content.decode()
    assert "A member of our clinical team will contact you." in page


def test_with_the_broker_down_the_crisis_step_saves_fast_and_the_alert_goes_with_the_worker(
    web,
    client_a,
    settings,
    therapist,
    medical_practitioner,
    coordinator,
    privacy_officer,
    other_clinic_therapist,
):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    walk(web, slugs=_until("phq9"))

    started = time.monotonic()
    response = web.post(step_url("phq9"), step_data(STEPS[7], CRISIS_PHQ9))
    assert time.monotonic() - started < 2
    assert response["Location"].startswith(SUPPORT)
    alert = OutboxMessage.objects.get(kind=services.CRISIS_ALERT)
    assert alert.status == OutboxMessage.Status.PENDING
    assert mail.outbox == []

    outbox.outbox_sweep()

    alert.refresh_from_db()
    assert alert.status == OutboxMessage.Status.SENT
    urgent = [m for m in mail.outbox if "URGENT" in m.subject]
    assert sorted(r for m in urgent for r in m.to) == sorted(
        [therapist.email, medical_practitioner.email]
    )
    everyone = {r for m in mail.outbox for r in m.to}
    assert coordinator.email not in everyone
    assert privacy_officer.email not in everyone
    assert other_clinic_therapist.email not in everyone
    screening = draft_of(client_a)
    for message in urgent:
        text = message.subject + message.body
        assert reverse("admin:eligibility_screening_change", args=[screening.pk]) in text
        for answer in ("1985-04-23", "depression", "Depression", client_a.user.email):
            assert answer not in text
        assert str(client_a.user.last_name) not in text
        assert "Thoughts that you would be better off dead" not in text
