"""Follow-ups from review: every signal of risk is acted on, the province's
age counts, notes stay with clinicians, bad ids are a 404."""

from datetime import date

from django.core import mail
from django.urls import reverse

from clinic import services as core
from clinic.models import AccessLogEntry, OutboxMessage, StaffProfile
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
    core.outbox_sweep()
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
