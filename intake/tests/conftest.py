from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from intake.tests.factories import rules, weekly_availability


@pytest.fixture
def intake_clinic(clinic_qc, therapist):
    """Montreal takes intake calls with one therapist, 9:00 to 17:00 on weekdays."""
    rules(
        clinic_qc,
        call_minutes=30,
        buffer_minutes=10,
        minimum_notice_hours=24,
        horizon_days=42,
        change_cutoff_hours=24,
    )
    weekly_availability(clinic_qc, therapist, days=range(5))
    return clinic_qc


MTL = ZoneInfo("America/Toronto")
NOW = datetime(2026, 6, 1, 8, 0, tzinfo=MTL)  # a Monday morning, clear of DST changes
THURSDAY_10 = datetime(2026, 6, 4, 10, 0, tzinfo=MTL)


@pytest.fixture
def clock():
    """The clock stopped at NOW; tests move it."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller
