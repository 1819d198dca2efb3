from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from .factories import billing_ready, billing_staff, team

MTL = ZoneInfo("America/Toronto")
VAN = ZoneInfo("America/Vancouver")


@pytest.fixture
def qc_billing(clinic_qc):
    billing_ready(clinic_qc)
    return clinic_qc


@pytest.fixture
def bc_billing(clinic_bc):
    billing_ready(clinic_bc)
    return clinic_bc


@pytest.fixture
def qc_team(qc_billing):
    return team(qc_billing)


@pytest.fixture
def biller(coordinator):
    return billing_staff(coordinator)


@pytest.fixture
def june():
    return datetime(2026, 6, 3, 10, 0, tzinfo=MTL)
