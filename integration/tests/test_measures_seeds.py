"""The demo shows months of scores (one client who got worse, one follow-up
due); the scale data has follow-ups for everyone past dosing."""

import io
from datetime import timedelta

from django.core.management import call_command

from clinic.models import ClientProfile
from eligibility.models import QuestionnaireResponse
from integration.measures.models import MeasureInvitation
from integration.measures.selectors import worsened_scores


def test_the_demo_has_months_of_scores_and_a_second_run_changes_nothing(db):
    call_command("seed_demo", quiet=True)
    client = ClientProfile.objects.get(user__email="client.reconnect.montreal@example.com")
    at = list(
        QuestionnaireResponse.objects.filter(client=client, questionnaire="phq9")
        .order_by("at")
        .values_list("at", flat=True)
    )
    assert len(at) == 4 and at[-1] - at[0] > timedelta(days=120)  # baseline and 3 follow-ups
    vancouver = ClientProfile.objects.get(user__email="client.reconnect.vancouver@example.com")
    assert {r.client_id for r in worsened_scores(clinic_ids=[vancouver.clinic_id])} == {
        vancouver.pk
    }
    due = MeasureInvitation.objects.filter(
        client__user__email="client.integrate.montreal@example.com", answered_at__isnull=True
    )
    assert due.count() == 2  # the month's (open now) and the three months' (ahead)
    before = (QuestionnaireResponse.objects.count(), MeasureInvitation.objects.count())
    call_command("seed_demo", quiet=True)
    assert (QuestionnaireResponse.objects.count(), MeasureInvitation.objects.count()) == before


def test_seed_scale_gives_everyone_past_dosing_their_follow_ups(db):
    call_command("seed_scale", clients=80, appointments_per_client=1, stdout=io.StringIO())
    past_dosing = ClientProfile.objects.filter(
        courses__stage__in=["integrate", "reconnect"]
    ).count()
    assert MeasureInvitation.objects.count() == 3 * past_dosing
    answered = MeasureInvitation.objects.filter(answered_at__isnull=False)
    assert answered.exists()
    assert all(i.phq9.score == sum(i.phq9.answers) for i in answered.select_related("phq9"))
