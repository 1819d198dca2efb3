"""Signed-in pages read the person with their profiles, and the sessions
open when the backends moved stay open."""

import importlib

from django.apps import apps
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.test import Client
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
