"""Security headers on the key pages, in production settings' spirit."""

import pytest
from django.urls import reverse


@pytest.mark.parametrize("path", ["/", "/book/", "/accounts/login/"])
def test_public_pages_send_the_security_headers(client, db, path):
    response = client.get(path)
    csp = response["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_every_script_on_a_page_carries_the_nonce(client, db):
    response = client.get("/")
    nonce = response["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    page = response.content.decode()
    assert page.count("<script") == page.count(f'nonce="{nonce}"') > 0


def test_pages_for_a_signed_in_person_are_never_cached(client, client_a, staff_login, therapist):
    client.force_login(client_a.user)
    assert "no-store" in client.get(reverse("portal:home"))["Cache-Control"]
    assert "no-store" in staff_login(therapist).get(reverse("staff:home"))["Cache-Control"]
