from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

MTL = ZoneInfo("America/Toronto")
NOW = datetime(2026, 6, 1, 8, 0, tzinfo=MTL)  # a Monday, the day before the first meeting


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller
