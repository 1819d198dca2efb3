"""Links in e-mails are built from SITE_URL, never from the Host header of
the request that caused them: behind a proxy that passes any Host on, a
stranger asking for someone's password reset must not receive a link to a
host of their own choosing (with the key in it)."""

import pytest
from django.core import mail
from django.test import override_settings
from django.urls import reverse

from clinic.models import User

EVIL = "evil.example"


@pytest.fixture
def any_host():
    with override_settings(ALLOWED_HOSTS=["*"]):
        yield


def _links(message) -> list[str]:
    return [word for word in message.body.split() if "://" in word]


def test_a_password_reset_link_points_at_the_site_whatever_the_host(client, client_a, any_host):
    response = client.post(
        reverse("account_reset_password"), {"email": client_a.user.email}, HTTP_HOST=EVIL
    )
    assert response.status_code == 302
    (message,) = mail.outbox
    links = _links(message)
    assert links and all(link.startswith("http://testserver/") for link in links), links
    assert EVIL not in message.body and EVIL not in message.subject


def test_a_sign_up_confirmation_link_points_at_the_site_whatever_the_host(
    client, clinic_qc, any_host
):
    response = client.post(
        reverse("account_signup"),
        {
            "first_name": "Sam",
            "last_name": "Roy",
            "email": "sam@example.com",
            "clinic": clinic_qc.pk,
            "preferred_language": "en",
            "password1": "a-long-test-passphrase",
            "password2": "a-long-test-passphrase",
        },
        HTTP_HOST=EVIL,
    )
    assert response.status_code == 302
    assert User.objects.filter(email="sam@example.com").exists()
    (message,) = mail.outbox
    links = _links(message)
    assert links and all(link.startswith("http://testserver/") for link in links), links
    assert EVIL not in message.body
