from collections import defaultdict

import pytest

from clinic import journey


@pytest.fixture(autouse=True)
def core_journey_only(monkeypatch):
    """The core's tests check the stage machine itself, without the
    conditions stage apps add (a held intake call, an eligible decision...):
    each app tests its own guards."""
    monkeypatch.setattr(journey, "_guards", defaultdict(list))


@pytest.fixture
def privacy_officer_bc(clinic_bc):
    """The Vancouver clinic's privacy officer (the root conftest's is Montreal's)."""
    from clinic.models import StaffRole
    from clinic.tests.factories import staff_create

    return staff_create(
        role=StaffRole.PRIVACY_OFFICER, clinics=[clinic_bc], email="privacy.bc@example.com"
    )
