"""Follow-ups from review: every signal of risk is acted on, the province's
age counts, notes stay with clinicians, bad ids are a 404."""

from datetime import date

import pytest
from django.core import mail
from django.urls import reverse

from clinic import outbox
from clinic.models import AccessLogEntry, Course, OutboxMessage, StaffProfile, Stage
from eligibility import rules, screener, services
from eligibility.models import Screening
from eligibility.screener import EXAMPLE_ANSWERS
from eligibility.tests.factories import submitted_screening


def filled_draft(client, **overrides):
    screening = services.screening_start(client=client)
    for step in screener.steps(screening.screener_version):
        screening, _crisis = services.screening_save_step(
            screening=screening, step=step, answers={**EXAMPLE_ANSWERS, **overrides}
        )
    return screening


def test_a_risk_posted_after_sending_still_shows_help_and_alerts_the_team(client, client_a):
    services.screening_submit(screening=filled_draft(client_a))
    client.force_login(client_a.user)
    response = client.post("/portal/screening/safety/", {"safety_now": "yes"})
    assert response["Location"].startswith(reverse("eligibility:support"))
    assert OutboxMessage.objects.filter(kind=services.CRISIS_ALERT).count() == 1
    assert Screening.objects.get(course__client=client_a).crisis_flag


SAFETY = "/portal/screening/safety/"
PHQ9_STEP = "/portal/screening/phq9/"


def _alerts():
    return OutboxMessage.objects.filter(kind=services.CRISIS_ALERT)


def _move_course(client_profile, stage):
    extra = {"stage_before_hold": Stage.CONNECT} if stage == Stage.ON_HOLD else {}
    Course.objects.filter(client=client_profile).update(stage=stage, **extra)


@pytest.mark.parametrize("stage", [Stage.DECLINED, Stage.ON_HOLD, Stage.PREPARE, Stage.WITHDRAWN])
def test_a_risk_posted_once_the_course_has_left_connect_shows_help_and_alerts_the_team(
    client, client_a, stage
):
    sent = services.screening_submit(screening=filled_draft(client_a))
    _move_course(client_a, stage)
    client.force_login(client_a.user)

    response = client.post(SAFETY, {"safety_now": "yes"})

    assert response["Location"] == (
        f"{reverse('eligibility:support')}?next={reverse('eligibility:screener')}"
    )
    assert "9-8-8" in client.get(response["Location"]).content.decode()
    [alert] = _alerts()
    assert alert.payload == {"screening": str(sent.uuid)}
    sent.refresh_from_db()
    assert sent.crisis_flag and sent.crisis_at is not None
    assert sent.answers["safety_now"] == "no"  # nothing is saved into a closed screening


def test_a_draft_left_open_when_the_course_is_put_on_hold_still_alerts_on_a_risk(client, client_a):
    draft = filled_draft(client_a)
    _move_course(client_a, Stage.ON_HOLD)
    client.force_login(client_a.user)
    items = {f"item_{i + 1}": "1" for i in range(9)}  # item 9 above 0

    response = client.post(PHQ9_STEP, items)

    assert response["Location"].startswith(reverse("eligibility:support"))
    [alert] = _alerts()
    assert alert.payload == {"screening": str(draft.uuid)}
    draft.refresh_from_db()
    assert draft.crisis_flag and draft.answers["phq9"] == EXAMPLE_ANSWERS["phq9"]


def test_answers_without_risk_on_a_closed_course_show_why_the_screener_is_closed(client, client_a):
    services.screening_submit(screening=filled_draft(client_a))
    _move_course(client_a, Stage.DECLINED)
    client.force_login(client_a.user)
    response = client.post(SAFETY, {"safety_now": "no"})
    assert response.status_code == 200
    assert "You have no course in progress with the clinic." in response.content.decode()
    assert not _alerts().exists()


def test_a_risk_posted_twice_after_sending_alerts_the_team_once(client, client_a):
    services.screening_submit(screening=filled_draft(client_a))
    client.force_login(client_a.user)
    first = client.post(SAFETY, {"safety_now": "yes"})
    again = client.post(SAFETY, {"safety_now": "yes"})  # a double click, a refresh
    assert first["Location"] == again["Location"]
    assert again["Location"].startswith(reverse("eligibility:support"))
    assert _alerts().count() == 1


def test_a_risk_already_in_the_sent_answers_posted_again_shows_help_without_a_new_alert(
    client, client_a
):
    services.screening_submit(screening=filled_draft(client_a, safety_now="yes"))
    assert _alerts().count() == 1  # when it was first answered
    client.force_login(client_a.user)
    response = client.post(SAFETY, {"safety_now": "yes"})
    assert response["Location"].startswith(reverse("eligibility:support"))
    assert _alerts().count() == 1


def test_another_risk_posted_after_sending_alerts_the_team_again(client, client_a):
    services.screening_submit(screening=filled_draft(client_a, safety_now="yes"))
    client.force_login(client_a.user)
    client.post(PHQ9_STEP, {f"item_{i + 1}": "1" for i in range(9)})
    assert _alerts().count() == 2


def test_a_risk_posted_while_another_tab_sends_the_screening_still_alerts(
    client, client_a, monkeypatch
):
    draft = filled_draft(client_a)
    seen_as_draft = Screening.objects.get(pk=draft.pk)
    services.screening_submit(screening=draft)
    # The step read the draft just before the other tab sent it.
    monkeypatch.setattr(services, "screening_start", lambda *, client: seen_as_draft)
    client.force_login(client_a.user)

    response = client.post(SAFETY, {"safety_now": "yes"})

    assert response["Location"] == (
        f"{reverse('eligibility:support')}?next={reverse('eligibility:submitted')}"
    )
    assert _alerts().count() == 1


def test_sending_answers_that_signal_risk_flags_the_screening_whatever_happened_before(client_a):
    screening = filled_draft(client_a)
    # As if the flag had been lost (an older draft copied forward): the submit looks again.
    Screening.objects.filter(pk=screening.pk).update(
        crisis_flag=False, answers={**EXAMPLE_ANSWERS, "safety_now": "yes"}
    )
    OutboxMessage.objects.all().delete()
    sent = services.screening_submit(screening=screening)
    assert sent.crisis_flag and "crisis" in sent.reasons
    assert OutboxMessage.objects.filter(kind=services.CRISIS_ALERT).count() == 1


def test_with_no_clinician_on_file_the_alert_goes_to_the_clinics_own_inbox(client_a, clinic_qc):
    assert not StaffProfile.objects.exists()
    services.screening_save_step(
        screening=services.screening_start(client=client_a),
        step=screener.steps(1)[-1],
        answers={"safety_now": "yes"},
    )
    outbox.outbox_sweep()
    assert [m.to for m in mail.outbox] == [[clinic_qc.email]]
    assert "URGENT" in mail.outbox[0].subject


def test_the_province_lived_in_sets_the_minimum_age_too(client_a):
    """18 in British Columbia is under age there, even at the Quebec clinic."""
    eighteen = date(date.today().year - 18, 1, 1).isoformat()  # noqa: DTZ011
    sent = services.screening_submit(
        screening=filled_draft(client_a, date_of_birth=eighteen, province="BC")
    )
    assert sent.outcome == "not_eligible" and "under_minimum_age" in sent.reasons
    assert sent.rules_version == rules.CURRENT


def test_a_bad_screening_id_in_the_decision_url_is_a_404(staff_login, therapist):
    web = staff_login(therapist)
    for bad in ("abc", "999999"):
        url = f"/admin/eligibility/screening/{bad}/decide/"
        assert web.post(url, {"kind": "eligible", "note": "x"}).status_code == 404
        assert web.get(url).status_code == 404


def test_the_staff_list_logs_each_client_it_shows(staff_login, client_a, client_b, coordinator):
    submitted_screening(client_a.courses.get())
    submitted_screening(client_b.courses.get())
    staff_login(coordinator).get(reverse("eligibility:staff_list"))
    assert set(
        AccessLogEntry.objects.filter(actor=coordinator).values_list("client", flat=True)
    ) == {
        client_a.pk,
        client_b.pk,
    }


def test_the_support_page_never_sends_a_client_off_the_site(client, client_a):
    client.force_login(client_a.user)
    for target in ("https://evil.example/", "//evil.example/", "javascript:alert(1)"):
        page = client.get(reverse("eligibility:support"), {"next": target}).content.decode()
        assert f'href="{target}"' not in page
        assert f'href="{reverse("eligibility:screener")}"' in page
