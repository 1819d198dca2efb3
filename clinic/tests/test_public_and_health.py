import time

import pytest
from django.test import Client
from django.urls import reverse

from clinic.models import StaffProfile
from clinic.tests.factories import ClinicFactory, client_create, staff_create

PUBLIC = [
    "public:home",
    "public:program",
    "public:conditions",
    "public:team",
    "public:faq",
    "intake:start",
    "intake:interest",
]


@pytest.mark.parametrize("name", PUBLIC)
def test_public_pages_open_without_an_account_in_both_languages(db, name):
    for accept, lang in (("fr-CA,fr;q=0.9", "fr"), ("en-CA,en;q=0.9", "en")):
        response = Client(HTTP_ACCEPT_LANGUAGE=accept).get(reverse(name))
        assert response.status_code == 200
        assert f'<html lang="{lang}">' in response.content.decode()


def test_a_visitor_with_no_language_preference_gets_french_first(db):
    response = Client().get("/")
    assert '<html lang="fr">' in response.content.decode()


def test_the_language_switch_is_remembered_by_cookie(db):
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    browser.post(reverse("set_language"), {"language": "fr", "next": "/"})
    assert '<html lang="fr">' in browser.get("/").content.decode()


def test_the_language_switch_never_redirects_off_site(db):
    response = Client().post(
        reverse("set_language"), {"language": "fr", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_every_page_needs_an_account_unless_listed_public(db):
    assert Client().get("/portal/")["Location"].startswith(reverse("account_login"))
    assert Client().get("/staff/")["Location"].startswith(reverse("account_login"))


def test_health_reports_database_and_broker(db):
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "ok", "access_log_partitions": "ok"}


def test_health_reports_the_access_logs_missing_months(db):
    import time_machine
    from django.utils import timezone

    # Beat has not run for months: this month has no partition yet.
    with time_machine.travel(timezone.now() + timezone.timedelta(days=400), tick=False):
        response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json()["access_log_partitions"] == "attention"


def test_health_still_answers_quickly_when_the_broker_is_down(db, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    started = time.monotonic()
    response = Client().get("/healthz")
    assert time.monotonic() - started < 2
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "down", "access_log_partitions": "ok"}


def _make_data(size: int):
    clinics = [ClinicFactory() for _ in range(size)]
    for i in range(size):
        staff_create(clinics=clinics[: 1 + i % 3])
        client_create(clinic=clinics[i % len(clinics)])


def test_public_page_query_count_does_not_grow_with_the_data(db, django_assert_max_num_queries):
    """Every public page at 10 then at 100 clinics, staff and clients: the
    data is built once for all the pages (it takes longer than the pages)."""
    from django.core.cache import caches
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts: dict[str, list[int]] = {name: [] for name in PUBLIC}
    for size in (10, 100):
        _make_data(size - (10 if size == 100 else 0))
        for name in PUBLIC:
            caches["fragments"].clear()  # the page rendered, not read from memory
            with CaptureQueriesContext(connection) as queries:
                assert Client().get(reverse(name)).status_code == 200, name
            counts[name].append(len(queries))
            if size == 100:
                assert counts[name][0] == counts[name][1], (name, counts[name])
                with django_assert_max_num_queries(4):
                    Client().get(reverse(name))
    assert StaffProfile.objects.count() == 100


def test_portal_query_count_does_not_grow_with_the_data(db, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from clinic.models import Course, JourneyEvent

    counts = []
    for size in (10, 100):
        _make_data(size - (10 if size == 100 else 0))
        client_profile = client_create(clinic=ClinicFactory())
        course = client_profile.courses.get()
        JourneyEvent.objects.bulk_create(
            JourneyEvent(course=course, from_stage="connect", to_stage="connect", reason="note")
            for _ in range(size)
        )
        browser = Client()
        browser.force_login(client_profile.user)
        with CaptureQueriesContext(connection) as queries:
            assert browser.get(reverse("portal:home")).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    with django_assert_max_num_queries(12):
        browser.get(reverse("portal:home"))
    assert Course.objects.count() >= 100


def test_robots_txt_keeps_crawlers_to_the_public_site():
    response = Client().get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    body = response.content.decode()
    for private in ("/portal/", "/staff/", "/admin/", "/book/manage/", "/book/confirm/"):
        assert f"Disallow: {private}" in body


@pytest.mark.parametrize(
    "name", ["public:home", "public:program", "public:faq", "public:team", "intake:start"]
)
def test_head_is_answered_wherever_get_is(db, name):
    """Monitors and link checkers ask with HEAD: 200 and no body, not 405."""
    response = Client().head(reverse(name))
    assert response.status_code == 200
    assert response.content == b""
