"""The people every test needs: two clinics, two clients, staff of each role
at the Montreal clinic, and a therapist of the Vancouver clinic."""

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from clinic.models import Province, StaffRole
from clinic.signals import MFA_ACTIVATED_SESSION_KEY
from clinic.tests.factories import ClinicFactory, client_create, staff_create


@pytest.fixture(autouse=True)
def english_by_default():
    """Assertions read English unless a test asks for French (a browser,
    a client's preference). The site's own default is French."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def fresh_fragments():
    """Each test starts with no rendered fragment kept in memory: the
    database it reads is its own, the process's memory is not."""
    from django.core.cache import caches

    caches["fragments"].clear()
    yield


@pytest.fixture
def client():
    """A browser that asks for English (French is the site's default)."""
    from django.test import Client

    return Client(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def clinic_qc(db):
    return ClinicFactory(
        slug="montreal",
        name="Montréal",
        province=Province.QC,
        time_zone="America/Toronto",
        minimum_client_age=18,
    )


@pytest.fixture
def clinic_bc(db):
    return ClinicFactory(
        slug="vancouver",
        name="Vancouver",
        province=Province.BC,
        time_zone="America/Vancouver",
        city="Vancouver",
        street_address="800 West Broadway",
        postal_code="V5Z 1J8",
        phone="+1 604 555 0100",
        minimum_client_age=19,
    )


@pytest.fixture
def client_a(clinic_qc):
    return client_create(clinic=clinic_qc, email="client.a@example.com")


@pytest.fixture
def client_b(clinic_qc):
    return client_create(clinic=clinic_qc, email="client.b@example.com")


@pytest.fixture
def therapist(clinic_qc):
    return staff_create(
        role=StaffRole.THERAPIST, clinics=[clinic_qc], email="therapist@example.com"
    )


@pytest.fixture
def medical_practitioner(clinic_qc):
    return staff_create(
        role=StaffRole.MEDICAL_PRACTITIONER, clinics=[clinic_qc], email="md@example.com"
    )


@pytest.fixture
def coordinator(clinic_qc):
    return staff_create(
        role=StaffRole.COORDINATOR, clinics=[clinic_qc], email="coordinator@example.com"
    )


@pytest.fixture
def privacy_officer(clinic_qc):
    return staff_create(
        role=StaffRole.PRIVACY_OFFICER, clinics=[clinic_qc], email="privacy@example.com"
    )


@pytest.fixture
def other_clinic_therapist(clinic_bc):
    return staff_create(
        role=StaffRole.THERAPIST, clinics=[clinic_bc], email="therapist.bc@example.com"
    )


@pytest.fixture
def staff_login(client):
    """Log a staff member in with two-factor authentication set up and used
    (tests of the gate itself go through the real login in test_mfa_gate)."""

    def login(user):
        from allauth.mfa.models import Authenticator
        from django.conf import settings

        if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
            TOTP.activate(user, generate_totp_secret())

        # A sign-in starts a session of its own (a test that signs in again
        # after moving the clock must not carry the last one's idle time).
        client.cookies.pop(settings.SESSION_COOKIE_NAME, None)
        client.force_login(user)
        session = client.session
        session[MFA_ACTIVATED_SESSION_KEY] = True
        session.save()
        return client

    return login
