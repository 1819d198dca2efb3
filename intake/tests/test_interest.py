"""Interest in a program under development: double opt-in. A registration
counts once the owner of the address opens the e-mailed link; nobody can
overwrite a confirmed one, and the page never says who has registered."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.cache import caches
from django.test import Client
from django.urls import reverse

from clinic.models import OutboxMessage
from clinic.outbox import outbox_sweep
from intake import services
from intake.models import InterestRegistration
from intake.selectors import interest_contacts
from intake.tests.conftest import NOW

pytestmark = pytest.mark.usefixtures("clock")

SAM = {
    "name": "Sam Gagnon",
    "email": "Sam.Gagnon@Example.com",
    "concern": "chronic_pain",
    "language": "fr",
    "consent": "on",
}


@pytest.fixture(autouse=True)
def _fresh_rate_limits(db):
    caches["ratelimit"].delete_pattern("*")


def register(web=None, path="/book/interest/?concern=chronic_pain", **overrides):
    web = web or Client(HTTP_ACCEPT_LANGUAGE="en")
    return web.post(path, {**SAM, **overrides})


def confirm_path(to="sam.gagnon@example.com") -> str:
    outbox_sweep()
    message = [m for m in mail.outbox if m.to == [to]][-1]
    return re.search(r"http://testserver(/book/interest/confirm/[^/\s]+/)", message.body).group(1)


def without_csrf(page: str) -> str:
    """The page without what differs on every response (CSRF token, CSP nonces)."""
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)
    return re.sub(r'nonce="[^"]+"', "", page)


def test_a_registration_counts_once_the_owner_opens_the_link(client, clinic_qc):
    page = register().content.decode()
    assert "Check your e-mail" in page
    registration = InterestRegistration.objects.get()
    assert registration.email == "sam.gagnon@example.com"
    assert not registration.is_confirmed and interest_contacts(concern="chronic_pain") == []
    # The e-mail goes in the registrant's language.
    outbox_sweep()
    (message,) = mail.outbox
    assert message.subject == "Confirmez votre inscription"
    assert "Douleur chronique" in message.body
    path = confirm_path()
    # Opening the link asks for a click: a mail filter that opens links confirms nothing.
    opened = client.get(path)
    assert opened.status_code == 200 and "Confirm my registration" in opened.content.decode()
    assert not InterestRegistration.objects.get().is_confirmed
    response = client.post(path)
    assert response.status_code == 302
    assert "Your registration is confirmed" in client.get(path).content.decode()
    registration.refresh_from_db()
    assert registration.confirmed_at == NOW
    assert interest_contacts(concern="chronic_pain") == [registration]
    # The link opened again shows the same, and changes nothing.
    assert client.post(path).status_code == 302
    registration.refresh_from_db()
    assert registration.confirmed_at == NOW


def test_the_record_of_consent_keeps_when_where_and_the_words(clinic_qc):
    register(Client(HTTP_ACCEPT_LANGUAGE="fr-CA"))
    registration = InterestRegistration.objects.get()
    assert registration.created_at == NOW
    assert registration.consent_page == "/book/interest/?concern=chronic_pain"
    assert registration.consent_wording.startswith("J’accepte que la clinique")


def test_a_confirmed_registration_is_never_changed_by_a_later_one(client, clinic_qc, clock):
    register()
    client.post(confirm_path())
    original = InterestRegistration.objects.get()
    mail.outbox.clear()
    clock.move_to(NOW + timedelta(days=1))
    # Someone else types the same address, in another case, with other details.
    register(name="Mallory", email="SAM.GAGNON@example.com", language="en")
    outbox_sweep()
    assert mail.outbox == []  # and the owner is not pestered either
    (kept,) = InterestRegistration.objects.all()
    assert (kept.pk, kept.name, kept.language, kept.created_at, kept.consent_wording) == (
        original.pk,
        "Sam Gagnon",
        "fr",
        original.created_at,
        original.consent_wording,
    )
    assert kept.confirmed_at == original.confirmed_at


def test_the_page_says_the_same_whatever_the_address(client, clinic_qc):
    register()
    client.post(confirm_path())
    web = Client(HTTP_ACCEPT_LANGUAGE="en")
    confirmed_one = register(web, email="sam.gagnon@example.com").content.decode()
    new_one = register(web, email="nobody@example.com").content.decode()
    assert without_csrf(confirmed_one) == without_csrf(new_one)


def test_a_newer_pending_registration_replaces_the_older_and_its_link_dies(
    client, clinic_qc, clock
):
    register(name="Typo Name")
    first_link = confirm_path()
    clock.move_to(NOW + timedelta(hours=1))
    register(name="Sam Gagnon")
    second_link = confirm_path()
    assert first_link != second_link
    (registration,) = InterestRegistration.objects.all()
    assert registration.name == "Sam Gagnon"
    dead = client.get(first_link)
    assert dead.status_code == 400 and "not valid" in dead.content.decode()
    assert client.post(first_link).status_code == 400
    assert client.post(second_link).status_code == 302
    assert InterestRegistration.objects.confirmed().get().name == "Sam Gagnon"


def test_an_email_queued_for_a_replaced_registration_is_not_sent(clinic_qc, clock):
    register(name="First")
    register(name="Second")  # before the sweep
    outbox_sweep()
    assert len(mail.outbox) == 1 and "Second" in mail.outbox[0].body
    assert not any("token" in m.payload for m in OutboxMessage.objects.all())


def test_an_expired_link_says_so_and_the_purge_forgets_the_registration(client, clinic_qc, clock):
    register()
    path = confirm_path()
    register(email="confirmed@example.com")
    client.post(confirm_path("confirmed@example.com"))
    clock.move_to(NOW + timedelta(days=7, minutes=1))
    expired = client.post(path)
    assert expired.status_code == 400 and "has expired" in expired.content.decode()
    assert (
        not InterestRegistration.objects.filter(email="sam.gagnon@example.com").get().is_confirmed
    )
    result = services.expired_requests_purge()
    assert result.interest_registrations == 1
    assert list(InterestRegistration.objects.values_list("email", flat=True)) == [
        "confirmed@example.com"
    ]
    assert "not valid, or it has expired" in client.get(path).content.decode()


@pytest.mark.parametrize("token", ["garbage", "x" * 400])
def test_an_unknown_link_gets_a_clear_page(client, token):
    response = client.get(reverse("intake:interest_confirm", args=[token]))
    assert response.status_code == 400
    assert "not valid" in response.content.decode()


def test_only_confirmed_registrations_are_people_to_contact(clinic_qc, clinic_bc, client):
    register(email="montreal@example.com", clinic=clinic_qc.pk)
    register(email="vancouver@example.com", clinic=clinic_bc.pk)
    register(email="either@example.com")
    register(email="unconfirmed@example.com")
    for email in ("montreal@example.com", "vancouver@example.com", "either@example.com"):
        client.post(confirm_path(email))
    montreal = {r.email for r in interest_contacts(concern="chronic_pain", clinic=clinic_qc)}
    assert montreal == {"montreal@example.com", "either@example.com"}
    assert len(interest_contacts(concern="chronic_pain")) == 3
    assert interest_contacts(concern="eating_disorder") == []


def test_the_admin_lists_confirmed_registrations_unless_asked_for_the_others(
    staff_login, clinic_qc, client
):
    from clinic.tests.factories import UserFactory

    register(email="confirmed@example.com")
    client.post(confirm_path("confirmed@example.com"))
    register(email="waiting@example.com")
    web = staff_login(UserFactory(email="root@example.com", is_staff=True, is_superuser=True))
    changelist = reverse("admin:intake_interestregistration_changelist")

    def listed(query=""):
        response = web.get(changelist + query)
        return {r.email for r in response.context["cl"].result_list}

    assert listed() == {"confirmed@example.com"}
    assert listed("?status=pending") == {"waiting@example.com"}
    assert listed("?status=all") == {"confirmed@example.com", "waiting@example.com"}
    change = web.get(
        reverse(
            "admin:intake_interestregistration_change",
            args=[InterestRegistration.objects.get(email="confirmed@example.com").pk],
        )
    ).content.decode()
    assert "/book/interest/?concern=chronic_pain" in change
    assert 'name="email"' not in change  # read-only: the record of consent is not edited
