"""The error pages people meet (400, 403, 404, 500 and an expired form) are
the site's own: styled, in the reader's language, with a way back, and
without the technical reason or the address asked for."""

import pytest
from django.contrib.auth.decorators import login_not_required
from django.test import Client
from django.urls import include, path, reverse

pytestmark = pytest.mark.django_db


@login_not_required
def broken(request):
    raise RuntimeError("secret detail: database password is hunter2")


urlpatterns = [path("boom/", broken), path("", include("config.urls"))]


def test_a_missing_page_says_so_in_english_with_a_way_home(client):
    response = client.get("/no-such-page-7f3a/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "We could not find this page" in page
    assert reverse("public:home") in page
    assert "Using the URLconf" not in page and "Request URL" not in page  # no debug page


def test_a_missing_page_speaks_french_to_a_french_reader():
    response = Client(HTTP_ACCEPT_LANGUAGE="fr").get("/introuvable/")
    assert response.status_code == 404
    assert "Nous n’avons pas trouvé cette page" in response.content.decode()


def test_a_client_on_a_staff_page_gets_the_styled_refusal_and_their_own_way_back(client, client_a):
    client.force_login(client_a.user)
    response = client.get(reverse("staff:home"))
    assert response.status_code == 403
    page = response.content.decode()
    assert "This page is not open to you" in page
    assert reverse("home_after_login") in page


def test_a_forbidden_admin_page_is_the_styled_one_not_a_bare_forbidden(staff_login, coordinator):
    response = staff_login(coordinator).get(reverse("admin:clinic_accesslogentry_changelist"))
    assert response.status_code == 403
    page = response.content.decode()
    assert "This page is not open to you" in page
    assert "ask your clinic’s privacy officer" in page


@pytest.mark.urls("clinic.tests.test_error_pages")
def test_a_server_error_is_the_calm_page_and_leaks_nothing():
    web = Client(HTTP_ACCEPT_LANGUAGE="en", raise_request_exception=False)
    response = web.get("/boom/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong on our side" in page
    assert "9-8-8" in page  # the crisis line, even here
    assert "hunter2" not in page and "RuntimeError" not in page


def test_an_expired_form_says_nothing_was_saved(client_a):
    web = Client(HTTP_ACCEPT_LANGUAGE="en", enforce_csrf_checks=True)
    web.force_login(client_a.user)
    response = web.post(reverse("portal:my_data"), {"action": "sharing", "research": "on"})
    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()
    client_a.refresh_from_db()
    assert not client_a.share_for_research
