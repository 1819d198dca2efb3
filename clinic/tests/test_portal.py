import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from clinic.journey import course_transition
from clinic.models import ClientProfile, Course, OutboxMessage, Stage, User
from clinic.tests.factories import UserFactory


def test_an_unverified_client_reaches_no_portal_page(client, clinic_qc):
    from clinic import accounts

    user = UserFactory(email="new@example.com", verified=False)
    accounts.client_register(user=user, clinic=clinic_qc)
    client.force_login(user)
    response = client.get(reverse("portal:home"))
    assert response["Location"] == reverse("portal:verify_email")
    assert "Verify your e-mail address" in client.get(response["Location"]).content.decode()


def test_the_portal_shows_the_stage_the_progress_and_the_next_step(client, client_a, therapist):
    course = client_a.courses.get()
    course_transition(course=course, to_stage=Stage.PREPARE, actor=therapist)
    client.force_login(client_a.user)
    page = client.get(reverse("portal:home")).content.decode()
    assert "<strong>Prepare</strong> stage" in page
    assert 'aria-valuenow="40"' in page
    assert 'class="current" aria-current="step"' in page
    assert page.count('class="done"') == 1
    assert "Prepare for your sessions" in page


def test_a_new_client_is_told_to_book_the_intake_call(client, client_a):
    client.force_login(client_a.user)
    page = client.get(reverse("portal:home")).content.decode()
    assert 'aria-valuenow="20"' in page
    assert "Book your free intake call" in page
    assert reverse("intake:start") in page


def test_a_course_on_hold_keeps_its_place_on_the_bar(client, client_a, therapist):
    course = client_a.courses.get()
    course_transition(course=course, to_stage=Stage.PREPARE, actor=therapist)
    course_transition(course=course, to_stage=Stage.ON_HOLD, actor=therapist, reason="surgery")
    client.force_login(client_a.user)
    page = client.get(reverse("portal:home")).content.decode()
    assert 'aria-valuenow="40"' in page
    assert "Your course is on hold" in page


def test_the_portal_speaks_the_clients_language(client, client_a):
    User.objects.filter(pk=client_a.user_id).update(preferred_language="fr")
    client.force_login(client_a.user)
    page = client.get(reverse("portal:home")).content.decode()
    assert '<html lang="fr">' in page


def test_switching_language_is_remembered_for_a_signed_in_person(client, client_a):
    client.force_login(client_a.user)
    response = client.post(reverse("set_language"), {"language": "fr", "next": "/portal/"})
    assert response.status_code == 302
    assert User.objects.get(pk=client_a.user_id).preferred_language == "fr"


def test_a_bad_language_changes_nothing(client, client_a):
    client.force_login(client_a.user)
    client.post(reverse("set_language"), {"language": "xx", "next": "/portal/"})
    assert User.objects.get(pk=client_a.user_id).preferred_language == "en"


@pytest.mark.django_db(transaction=True)
def test_sign_up_makes_a_client_with_a_course_and_a_welcome_after_verification(client, clinic_qc):
    response = client.post(
        reverse("account_signup"),
        {
            "first_name": "Noémie",
            "last_name": "Tremblay",
            "email": "noemie@example.com",
            "clinic": clinic_qc.pk,
            "preferred_language": "fr",
            "password1": "une-longue-phrase-secrete",
            "password2": "une-longue-phrase-secrete",
        },
    )
    assert response.status_code == 302
    profile = ClientProfile.objects.get(user__email="noemie@example.com")
    assert profile.clinic == clinic_qc
    assert Course.objects.get(client=profile).stage == Stage.CONNECT
    # Mandatory verification: a confirmation e-mail, and no portal until it is used.
    assert len(mail.outbox) == 1
    assert client.get(reverse("portal:home")).status_code == 302
    assert not OutboxMessage.objects.exists()
    key = mail.outbox[0].body.split("/accounts/confirm-email/")[1].split("/")[0]
    client.post(reverse("account_confirm_email", args=[key]))
    assert EmailAddress.objects.get(email="noemie@example.com").verified
    welcome = OutboxMessage.objects.get(kind="accounts.welcome")
    assert welcome.payload["user_id"] == profile.user_id


def test_sign_up_with_missing_or_wrong_fields_explains_and_creates_nothing(client, clinic_qc):
    response = client.post(
        reverse("account_signup"),
        {
            "first_name": "",
            "email": "not-an-email",
            "clinic": "999",
            "password1": "x",
            "password2": "y",
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "This field is required." in page
    assert "Choose one of the clinics in the list." in page
    assert not User.objects.exists()
