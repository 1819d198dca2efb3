"""The demo seeds whatever the day and hour `make run` is started at.

Its history (intake calls, assessments, dosing and integration sessions) is
placed relative to today; the groups planned after it meet in the evening.
Seeded on a Friday at 16:30 UTC, the history once filled the Thursday evening
of the Vancouver group's second week and the command stopped with a conflict
(the demo, and `make run`, failed at that hour of every Friday)."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.core.management import call_command

from integration.groups.models import GroupMeeting, IntegrationGroup


@pytest.mark.django_db
def test_the_demo_seeds_on_a_friday_afternoon_with_both_clinics_groups():
    with time_machine.travel(datetime(2026, 12, 4, 16, 30, tzinfo=UTC), tick=False):
        call_command("seed_demo", quiet=True)
    groups = IntegrationGroup.objects.order_by("clinic__slug")
    assert [g.clinic.slug for g in groups] == ["montreal", "vancouver"]
    assert GroupMeeting.objects.filter(group__in=groups).count() == 24
