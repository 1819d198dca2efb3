"""Staff reach no staff page and no admin page until they have set up
two-factor authentication (through an invitation) and used it in the session."""

import pytest
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.urls import reverse
from django.utils import timezone

from clinic.tests.factories import UserFactory

PASSWORD = "a-long-test-passphrase"


def current_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(timezone.now().timestamp()) // 30))


@pytest.fixture
def superuser(db):
    return UserFactory(email="root@example.com", is_staff=True, is_superuser=True)


@pytest.mark.parametrize("path", ["/staff/", "/admin/", "/admin/clinic/course/"])
def test_staff_without_mfa_are_told_to_ask_for_an_invitation(client, therapist, path):
    """Never sent to an enrolment page: whoever has the password could enrol
    their own authenticator there (clinic/tests/test_staff_invitations.py)."""
    client.post(reverse("account_login"), {"login": therapist.email, "password": PASSWORD})
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == reverse("staff_invitation_needed")


def test_staff_with_mfa_sign_in_with_their_code_and_reach_the_staff_pages(client, therapist):
    secret = generate_totp_secret()
    TOTP.activate(therapist, secret)
    response = client.post(
        reverse("account_login"), {"login": therapist.email, "password": PASSWORD}
    )
    assert response["Location"] == reverse("mfa_authenticate")
    assert client.get("/staff/").status_code == 302  # not signed in until the code is given
    response = client.post(reverse("mfa_authenticate"), {"code": current_code(secret)})
    assert response.status_code == 302
    assert client.get("/staff/").status_code == 200


def test_a_wrong_code_keeps_staff_out(client, therapist):
    secret = generate_totp_secret()
    TOTP.activate(therapist, secret)
    client.post(reverse("account_login"), {"login": therapist.email, "password": PASSWORD})
    wrong = f"{(int(current_code(secret)) + 1) % 1_000_000:06d}"
    response = client.post(reverse("mfa_authenticate"), {"code": wrong})
    assert response.status_code == 200
    assert "Incorrect code" in response.content.decode()
    assert client.get("/staff/")["Location"].startswith(reverse("account_login"))


def test_a_session_that_did_not_use_mfa_must_reauthenticate(client, therapist):
    """MFA set up on another device after this session signed in."""
    TOTP.activate(therapist, generate_totp_secret())
    client.force_login(therapist)
    response = client.get("/staff/")
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))


def test_the_superuser_too_goes_through_mfa_for_the_admin(client, superuser):
    client.force_login(superuser)
    assert client.get("/admin/")["Location"] == reverse("staff_invitation_needed")


def test_admin_login_goes_through_allauth(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_clients_are_not_asked_for_mfa(client, client_a):
    client.post(reverse("account_login"), {"login": client_a.user.email, "password": PASSWORD})
    assert client.get(reverse("portal:home")).status_code == 200


def test_a_client_cannot_open_staff_pages(client, client_a):
    client.force_login(client_a.user)
    assert client.get("/staff/").status_code == 403
    assert client.get("/admin/")["Location"].startswith("/admin/login/")


def test_the_admins_own_login_form_cannot_be_used_to_skip_allauth(client, therapist):
    """Django's admin login has no rate limit and no two-factor step."""
    response = client.post(
        "/admin/login/", {"username": therapist.email, "password": PASSWORD, "next": "/admin/"}
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert "_auth_user_id" not in client.session


def test_a_client_on_the_admin_login_is_refused(client, client_a):
    client.force_login(client_a.user)
    assert client.get("/admin/login/").status_code == 403
