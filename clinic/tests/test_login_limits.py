"""Failed sign-ins are limited by account and address together, by address,
and by account only as a much higher ceiling: a stranger's wrong passwords
cannot lock the owner out."""

import re
from datetime import timedelta

import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

PASSWORD = "a-long-test-passphrase"
STRANGER = "203.0.113.66"
OWNER = "198.51.100.7"
LIMITED = "Too many failed login attempts"


def sign_in(client, email, password, address):
    return client.post(
        reverse("account_login"), {"login": email, "password": password}, REMOTE_ADDR=address
    )


def signed_in(response) -> bool:
    return response.status_code == 302


def test_a_strangers_wrong_passwords_do_not_lock_the_owner_out(client, client_a):
    for _ in range(12):
        sign_in(client, client_a.user.email, "wrong-password-guess", STRANGER)
    assert LIMITED in sign_in(client, client_a.user.email, PASSWORD, STRANGER).content.decode()
    assert signed_in(sign_in(client, client_a.user.email, PASSWORD, OWNER))


def test_five_wrong_from_one_address_lock_that_account_there_for_five_minutes(client, client_a):
    for _ in range(5):
        response = sign_in(client, client_a.user.email, "wrong-password-guess", STRANGER)
        assert LIMITED not in response.content.decode()
    refused = sign_in(client, client_a.user.email, PASSWORD, STRANGER)
    assert refused.status_code == 200 and LIMITED in refused.content.decode()
    with time_machine.travel(timezone.now() + timedelta(minutes=5, seconds=1)):
        assert signed_in(sign_in(client, client_a.user.email, PASSWORD, STRANGER))


def test_the_limit_speaks_the_persons_language(client_a):
    from django.test import Client

    browser = Client(HTTP_ACCEPT_LANGUAGE="fr")
    for _ in range(5):
        sign_in(browser, client_a.user.email, "wrong-password-guess", STRANGER)
    page = sign_in(browser, client_a.user.email, PASSWORD, STRANGER).content.decode()
    assert "Trop de tentatives de connexion" in page


def test_many_wrong_passwords_from_one_address_across_accounts_are_limited(
    client, client_a, client_b
):
    for n in range(10):
        sign_in(client, f"guess{n}@example.com", "wrong-password-guess", STRANGER)
    response = sign_in(client, client_b.user.email, PASSWORD, STRANGER)
    assert LIMITED in response.content.decode()
    # Another address is not held back by it.
    assert signed_in(sign_in(client, client_b.user.email, PASSWORD, OWNER))


def test_the_account_keeps_a_ceiling_against_a_guess_spread_over_many_addresses(client, client_a):
    email = client_a.user.email
    for host in range(20):
        for _ in range(5):
            sign_in(client, email, "wrong-password-guess", f"192.0.2.{host + 1}")
    response = sign_in(client, email, PASSWORD, OWNER)
    assert LIMITED in response.content.decode()
    # Attempts the ceiling refused are not counted: an hour later it is lifted.
    with time_machine.travel(timezone.now() + timedelta(hours=1, seconds=1)):
        assert signed_in(sign_in(client, email, PASSWORD, OWNER))


def test_one_address_alone_cannot_reach_the_ceiling(client, client_a):
    """Fifteen failures an hour from one address, for one account: far below
    the account's ceiling, so that a stranger alone never reaches it."""
    email = client_a.user.email
    start = timezone.now()
    for window in range(6):
        with time_machine.travel(start + timedelta(minutes=5 * window, seconds=1)):
            for _ in range(5):
                sign_in(client, email, "wrong-password-guess", STRANGER)
    with time_machine.travel(start + timedelta(minutes=31)):
        assert LIMITED in sign_in(client, email, PASSWORD, STRANGER).content.decode()
        assert signed_in(sign_in(client, email, PASSWORD, OWNER))


def test_a_password_reset_lifts_the_ceiling_for_the_owner(client, client_a):
    email = client_a.user.email
    for host in range(20):
        for _ in range(5):
            sign_in(client, email, "wrong-password-guess", f"192.0.2.{host + 1}")
    assert LIMITED in sign_in(client, email, PASSWORD, OWNER).content.decode()

    client.post(reverse("account_reset_password"), {"email": email}, REMOTE_ADDR=OWNER)
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+/)", mail.outbox[-1].body)
    set_password = client.get(link.group(1), REMOTE_ADDR=OWNER)["Location"]
    new_password = "another-long-passphrase-2026"
    response = client.post(
        set_password,
        {"password1": new_password, "password2": new_password},
        REMOTE_ADDR=OWNER,
    )
    assert response.status_code == 302
    client.logout()
    assert signed_in(sign_in(client, email, new_password, OWNER))


def test_behind_the_proxy_the_limits_count_the_clients_address(client, client_a, settings):
    """With a TLS proxy in front, REMOTE_ADDR is the proxy's for everyone:
    the limits read the client's address from X-Forwarded-For."""
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    for _ in range(12):
        client.post(
            reverse("account_login"),
            {"login": client_a.user.email, "password": "wrong-password-guess"},
            REMOTE_ADDR=proxy,
            HTTP_X_FORWARDED_FOR=STRANGER,
        )
    response = client.post(
        reverse("account_login"),
        {"login": client_a.user.email, "password": PASSWORD},
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR=OWNER,
    )
    assert signed_in(response)
