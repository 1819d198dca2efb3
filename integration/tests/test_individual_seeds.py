import pytest
from django.core.management import call_command

from clinic.models import Stage
from integration.individual.models import IndividualSession

pytestmark = pytest.mark.django_db


def test_seed_scale_holds_integration_sessions_after_the_board_sessions(db):
    import io

    out = io.StringIO()
    call_command("seed_scale", clients=80, appointments_per_client=1, stdout=out)
    made = IndividualSession.objects.count()
    assert made > 0
    assert f"{made} integration sessions" in out.getvalue()
    assert not IndividualSession.objects.exclude(
        course__stage__in=[Stage.INTEGRATE, Stage.RECONNECT]
    ).exists()
