"""The scale data has follow-ups for everyone past dosing (the demo's months
of scores are checked in tests/test_seed_demo.py, on its one seeded database)."""

import io

from django.core.management import call_command

from clinic.models import ClientProfile
from integration.measures.models import MeasureInvitation


def test_seed_scale_gives_everyone_past_dosing_their_follow_ups(db):
    call_command("seed_scale", clients=80, appointments_per_client=1, stdout=io.StringIO())
    past_dosing = ClientProfile.objects.filter(
        courses__stage__in=["integrate", "reconnect"]
    ).count()
    assert MeasureInvitation.objects.count() == 3 * past_dosing
    answered = MeasureInvitation.objects.filter(answered_at__isnull=False)
    assert answered.exists()
    assert all(i.phq9.score == sum(i.phq9.answers) for i in answered.select_related("phq9"))
