from collections import defaultdict

import pytest

from clinic import journey


@pytest.fixture(autouse=True)
def core_journey_only(monkeypatch):
    """The core's tests check the stage machine itself, without the
    conditions stage apps add (a held intake call, an eligible decision...):
    each app tests its own guards."""
    monkeypatch.setattr(journey, "_guards", defaultdict(list))
