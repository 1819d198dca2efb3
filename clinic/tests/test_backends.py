"""Signed-in pages read the person with their profiles and two-factor
state, their session from Redis (written through to the database), and the
sessions open when the backends moved stay open."""

import importlib

from django.apps import apps
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

migration = importlib.import_module("clinic.migrations.0013_session_backend_paths")


def _session_for(user, backend: str) -> str:
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = backend
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


def _portal(session_key: str):
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    browser.cookies["sessionid"] = session_key
    return browser.get(reverse("portal:home"))


# The move rewrote sessions in the database, before they were also kept in Redis.
@override_settings(SESSION_ENGINE="django.contrib.sessions.backends.db")
def test_a_session_from_before_the_move_stays_signed_in(client_a):
    old = _session_for(client_a.user, "allauth.account.auth_backends.AuthenticationBackend")
    assert _portal(old).status_code == 302  # signed out: the old path is no longer listed
    migration.forwards(apps, None)
    assert _portal(old).status_code == 200


def test_the_person_comes_with_their_profile_in_one_query(client_a):
    from clinic.backends import ModelBackend

    with CaptureQueriesContext(connection) as queries:
        user = ModelBackend().get_user(client_a.user.pk)
        assert user.client_profile.pk == client_a.pk
        assert not hasattr(user, "staff_profile")
    assert len(queries) == 1


def test_an_inactive_person_is_not_signed_in(client_a):
    from clinic.backends import AuthenticationBackend

    client_a.user.is_active = False
    client_a.user.save()
    assert AuthenticationBackend().get_user(client_a.user.pk) is None


@override_settings(ROOT_URLCONF="bench.urls")
def test_a_signed_in_staff_page_reads_the_person_and_nothing_else_of_its_own(
    staff_login, therapist
):
    """The bench's signed-in floor: session, staff profile, two-factor state
    and time limits cost one query (the person), beside the page's own."""
    browser = staff_login(therapist)
    browser.get("/staff/bench-one-query/")  # the first page after sign-in writes the session
    with CaptureQueriesContext(connection) as queries:
        response = browser.get("/staff/bench-one-query/")
    assert response.status_code == 200
    assert len(queries) == 2, [q["sql"] for q in queries]
    assert "mfa_authenticator" in queries[0]["sql"]  # asked with the person


def test_the_staff_gate_sees_an_authenticator_removed_since_the_last_page(staff_login, therapist):
    from allauth.mfa.models import Authenticator

    browser = staff_login(therapist)
    assert browser.get(reverse("staff:home")).status_code == 200
    Authenticator.objects.filter(user=therapist).delete()
    response = browser.get(reverse("staff:home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("staff_invitation_needed")


def test_a_staff_member_stays_signed_in_while_the_sessions_redis_is_down(staff_login, therapist):
    browser = staff_login(therapist)
    assert browser.get(reverse("staff:home")).status_code == 200
    down = {
        **settings.CACHES,
        "sessions": {
            **settings.CACHES["sessions"],
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        },
    }
    with override_settings(CACHES=down):
        assert browser.get(reverse("staff:home")).status_code == 200


def test_signing_out_elsewhere_ends_a_session_kept_in_redis(staff_login, therapist):
    from allauth.usersessions.models import UserSession

    from clinic.accounts import other_sessions_end

    browser = staff_login(therapist)
    assert browser.get(reverse("staff:home")).status_code == 200
    UserSession.objects.create(
        user=therapist, session_key=browser.session.session_key, ip="127.0.0.1", user_agent="t"
    )
    other_sessions_end(user=therapist)
    assert browser.get(reverse("staff:home")).status_code == 302


def test_the_person_read_is_the_orms_with_profile_and_two_factor_state(therapist, client_a):
    """The compiled-once read gives what the ORM query gives: every field,
    the profile, the authenticator state."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from clinic.backends import ModelBackend, _person_query

    if not Authenticator.objects.filter(user=therapist).exists():
        TOTP.activate(therapist, generate_totp_secret())
    for person in (therapist, client_a.user):
        read = ModelBackend().get_user(person.pk)
        orm = _person_query().get(pk=person.pk)
        fields = [f.attname for f in type(person)._meta.concrete_fields]
        assert [getattr(read, f) for f in fields] == [getattr(orm, f) for f in fields]
        assert read.has_authenticator is orm.has_authenticator
        assert hasattr(read, "staff_profile") == hasattr(orm, "staff_profile")
        assert hasattr(read, "client_profile") == hasattr(orm, "client_profile")
    assert ModelBackend().get_user(therapist.pk).has_authenticator is True
    assert ModelBackend().get_user(client_a.user.pk).has_authenticator is False
    assert ModelBackend().get_user(therapist.pk).staff_profile.role == therapist.staff_profile.role
    assert ModelBackend().get_user(10**12) is None


def test_a_staff_member_deactivated_elsewhere_is_signed_out_at_the_next_page(
    staff_login, therapist
):
    """The person is read from the database on every request (the query is
    compiled once, its answer never kept): a deactivation by a bulk update,
    which no signal sees, counts from the next page."""
    from clinic.models import User

    browser = staff_login(therapist)
    assert browser.get(reverse("staff:home")).status_code == 200
    User.objects.filter(pk=therapist.pk).update(is_active=False)
    response = browser.get(reverse("staff:home"))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]
