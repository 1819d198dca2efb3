import json
import re

import pytest
from django.urls import reverse

from clinic.models import AccountClosureRequest, ClientProfile
from eligibility.tests.factories import submitted_screening

PASSWORD = "a-long-test-passphrase"


def reauthenticated(client):
    """The export asks for the password again first."""
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    return client


def test_a_client_downloads_all_their_data_after_confirming_their_password(
    client, client_a, client_b
):
    submitted_screening(
        client_a.courses.get(), answers={"primary_concern": "ptsd", "phq9": [1] * 9}
    )
    submitted_screening(client_b.courses.get(), answers={"primary_concern": "anxiety"})
    client.force_login(client_a.user)
    assert client.get(reverse("portal:my_data_download"))["Location"].startswith(
        reverse("account_reauthenticate")
    )
    reauthenticated(client)
    response = client.get(reverse("portal:my_data_download"))
    assert response["Content-Disposition"] == 'attachment; filename="my-data.json"'
    data = json.loads(response.content)
    assert data["account"]["email"] == client_a.user.email
    assert data["courses"][0]["stage"] == "connect"
    assert data["screenings"][0]["submissions"][0]["answers"]["primary_concern"] == "ptsd"
    assert "intake_calls" in data
    assert "anxiety" not in response.content.decode()  # client B's answers are not in A's copy
    summary = client.get(reverse("portal:my_data_summary")).content.decode()
    assert "Post-traumatic stress disorder (PTSD)" in summary and "ptsd" not in summary


def test_sharing_is_off_until_the_client_turns_it_on(client, client_a):
    assert not (client_a.share_for_research or client_a.share_for_marketing)
    client.force_login(client_a.user)
    client.post(reverse("portal:my_data"), {"action": "sharing", "research": "on"})
    client_a.refresh_from_db()
    assert client_a.share_for_research and not client_a.share_for_marketing


def test_asking_to_close_the_account_is_recorded_once_and_deletes_nothing(client, client_a):
    client.force_login(client_a.user)
    client.post(reverse("portal:my_data"), {"action": "close"})  # not confirmed: nothing happens
    assert not AccountClosureRequest.objects.exists()
    for _ in range(2):
        client.post(
            reverse("portal:my_data"), {"action": "close", "confirm": "on", "reason": "Moving away"}
        )
    assert AccountClosureRequest.objects.get().reason == "Moving away"
    assert ClientProfile.objects.filter(pk=client_a.pk).exists()
    assert (
        "Our privacy officer will write to you"
        in client.get(reverse("portal:my_data")).content.decode()
    )


def test_a_second_closure_request_keeps_its_own_reason_beside_the_first(client, client_a):
    client.force_login(client_a.user)
    first = client.post(
        reverse("portal:my_data"),
        {"action": "close", "confirm": "on", "reason": "Moving away"},
        follow=True,
    )
    assert "Your request is recorded." in first.content.decode()
    second = client.post(
        reverse("portal:my_data"),
        {"action": "close", "confirm": "on", "reason": "Please also delete my newsletter address"},
        follow=True,
    )
    # Told it was recorded, and it was: both reasons are kept, and shown back.
    assert "Your request is recorded." in second.content.decode()
    assert list(
        AccountClosureRequest.objects.order_by("requested_at", "pk").values_list(
            "reason", flat=True
        )
    ) == ["Moving away", "Please also delete my newsletter address"]
    page = second.content.decode()
    assert "Moving away" in page and "Please also delete my newsletter address" in page


def test_the_privacy_officer_handles_closure_requests(
    staff_login, client_a, privacy_officer, therapist
):
    AccountClosureRequest.objects.create(client=client_a)
    assert (
        staff_login(privacy_officer)
        .get(reverse("admin:clinic_accountclosurerequest_changelist"))
        .status_code
        == 200
    )
    assert (
        staff_login(therapist)
        .get(reverse("admin:clinic_accountclosurerequest_changelist"))
        .status_code
        == 403
    )


def test_an_unconfirmed_closure_request_says_what_is_missing(client, client_a):
    client.force_login(client_a.user)
    response = client.post(reverse("portal:my_data"), {"action": "close"}, follow=True)
    assert "to send the request" in response.content.decode()
    assert not AccountClosureRequest.objects.exists()


def test_the_readable_copy_is_in_the_client_s_language_with_codes_spelled_out(client, client_a):
    from clinic.models import User

    User.objects.filter(pk=client_a.user.pk).update(preferred_language="fr")
    client.force_login(client_a.user)
    reauthenticated(client)
    page = client.get(reverse("portal:my_data_summary")).content.decode()
    assert "<dt>Courriel</dt>" in page
    assert "<dt>Étape</dt><dd>Premier contact</dd>" in page  # not "stage: connect"
    assert "share_for_research" not in page and "'connect'" not in page


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        ("a-brand-new-passphrase", "another-passphrase", "didn’t match"),
        ("12345678", "12345678", "too common"),
        ("", "", "This field is required."),
    ],
)
def test_a_refused_activation_password_changes_nothing(client, client_a, first, second, message):
    from allauth.account.models import EmailAddress
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    user = client_a.user
    user.set_unusable_password()
    user.save()
    EmailAddress.objects.filter(user=user).update(verified=False)
    url = reverse(
        "account_activate",
        args=[
            urlsafe_base64_encode(force_bytes(user.pk)),
            default_token_generator.make_token(user),
        ],
    )
    response = client.post(url, {"new_password1": first, "new_password2": second})
    assert response.status_code == 200 and message in response.content.decode()
    user.refresh_from_db()
    assert not user.has_usable_password()
    assert not EmailAddress.objects.filter(user=user, verified=True).exists()


RAW_KEY = re.compile(r"<d[td][^>]*>[^<]*\b([a-z0-9]+_[a-z0-9_]+|gad7|phq9)\b[^<]*</d[td]>")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_readable_copy_shows_each_answer_with_its_question_and_label(
    client, client_a, therapist, language
):
    from clinic.models import User
    from eligibility.tests.factories import resent_after_more_information, sent_screening

    User.objects.filter(pk=client_a.user.pk).update(preferred_language=language)
    screening = sent_screening(client_a, pregnant="not_applicable", safety_now="no")
    resent_after_more_information(screening, therapist, alcohol="weekly")
    client.force_login(client_a.user)
    reauthenticated(client)
    page = client.get(reverse("portal:my_data_summary")).content.decode()
    assert not RAW_KEY.findall(page), RAW_KEY.findall(page)
    if language == "en":
        assert ">Anxiety (GAD-7)</dt>" in page
        assert "<dt>Are you pregnant, or could you be?</dt><dd>Does not apply to me</dd>" in page
        assert "<dd>April 23, 1985</dd>" in page
    else:
        assert ">Anxiété (GAD-7)</dt>" in page
        assert "<dd>Ne me concerne pas</dd>" in page
        assert "<dd>23 avril 1985</dd>" in page


@pytest.mark.parametrize("size", [1, 10])
def test_the_copy_of_ones_data_costs_the_same_queries_at_two_sizes(
    client, client_a, therapist, size, django_assert_max_num_queries
):
    """The readable copy and the download, with a longer history, more
    screening submissions and more consent answers: the same budget."""
    from django.utils import timezone

    from clinic.models import JourneyEvent
    from eligibility.tests.factories import resent_after_more_information, sent_screening
    from sessions import content
    from sessions.models import Consent
    from sessions.selectors.prepare import document_in_force

    course = client_a.courses.get()
    JourneyEvent.objects.bulk_create(
        JourneyEvent(course=course, from_stage="connect", to_stage="connect", reason=f"note {i}")
        for i in range(size)
    )
    screening = sent_screening(client_a)
    for _ in range(size):
        resent_after_more_information(screening, therapist, heart_disease="no")
    # The migration installs the documents; a transactional test before this
    # one may have flushed them.
    content.install()
    document = document_in_force(kind="filming", language="en")
    Consent.objects.bulk_create(
        Consent(
            course=course,
            document=document,
            decision=Consent.Decision.DECLINED,
            text_sha256=document.sha256,
            language="en",
            at=timezone.now(),
        )
        for _ in range(size)
    )
    client.force_login(client_a.user)
    reauthenticated(client)
    with django_assert_max_num_queries(16):
        response = client.get(reverse("portal:my_data_summary"))
    assert response.status_code == 200
    assert all(f"note {i}" in response.content.decode() for i in range(size))
    with django_assert_max_num_queries(15):
        response = client.get(reverse("portal:my_data_download"))
    data = json.loads(response.content)
    assert len(data["courses"][0]["events"]) >= size
    assert len(data["screenings"][0]["submissions"]) == size + 1
    assert len(data["preparation"]["consents"]) == size


@pytest.mark.parametrize("size", [1, 10])
def test_the_my_data_page_costs_the_same_queries_at_two_sizes(
    client, client_a, size, django_assert_max_num_queries
):
    for n in range(size):
        AccountClosureRequest.objects.create(client=client_a, reason=f"Reason {n}")
    client.force_login(client_a.user)
    client.get(reverse("portal:home"))  # warm the session
    with django_assert_max_num_queries(5):
        response = client.get(reverse("portal:my_data"))
    assert response.status_code == 200
    assert all(f"Reason {n}" in response.content.decode() for n in range(size))
