import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinic.journey import course_transition
from clinic.models import Course, JourneyEvent, StaffRole, Stage
from clinic.tests.factories import client_create


def grow(clinic, therapist, size):
    for _ in range(size):
        profile = client_create(clinic=clinic)
        course_transition(course=profile.courses.get(), to_stage=Stage.PREPARE, actor=therapist)


def test_the_course_list_is_paginated_and_its_query_count_is_fixed(
    staff_login, clinic_qc, therapist
):
    web = staff_login(therapist)
    web.get(reverse("staff:home"))  # the session's first request records it (usersessions)
    counts = []
    for size in (10, 90):
        grow(clinic_qc, therapist, size)
        with CaptureQueriesContext(connection) as queries:
            page = web.get(reverse("staff:home"))
        assert page.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    # The 25 reads it shows are one INSERT: no lock, no read of the chain.
    assert counts[1] <= 5, counts
    assert sum("clinic_accesslogentry" in q["sql"] for q in queries.captured_queries) == 1
    body = page.content.decode()
    assert "Page 1 of 4" in body
    assert body.count("/staff/courses/") == 25


def test_the_course_list_filters_by_stage_and_shows_only_the_staff_members_clinics(
    staff_login, clinic_qc, clinic_bc, therapist, other_clinic_therapist
):
    grow(clinic_qc, therapist, 3)
    client_create(clinic=clinic_qc, email="still.connect@example.com")
    client_create(clinic=clinic_bc, email="vancouver.client@example.com")
    web = staff_login(therapist)
    body = web.get(reverse("staff:home"), {"stage": Stage.CONNECT}).content.decode()
    assert body.count("/staff/courses/") == 1
    assert "vancouver.client" not in web.get(reverse("staff:home")).content.decode()


def test_each_row_of_the_course_list_shows_its_stage_label_in_the_readers_language(
    staff_login, clinic_qc, therapist
):
    grow(clinic_qc, therapist, 1)  # one course in Prepare
    client_create(clinic=clinic_qc, email="still.connect@example.com")
    web = staff_login(therapist)
    cells = re.findall(r"<td>([^<]*)</td>", web.get(reverse("staff:home")).content.decode())
    assert "Prepare" in cells and "Connect" in cells
    therapist.preferred_language = "fr"
    therapist.save(update_fields=["preferred_language"])
    french = staff_login(therapist).get(reverse("staff:home")).content.decode()
    cells = re.findall(r"<td>([^<]*)</td>", french)
    assert "Préparation" in cells and "Premier contact" in cells


def test_the_course_page_query_count_does_not_grow_with_its_history(
    staff_login, client_a, therapist
):
    course = client_a.courses.get()
    web = staff_login(therapist)
    web.get(reverse("staff:home"))  # the session's first request records it (usersessions)
    counts = []
    for size in (10, 100):
        JourneyEvent.objects.bulk_create(
            JourneyEvent(course=course, from_stage="connect", to_stage="connect", actor=therapist)
            for _ in range(size)
        )
        with CaptureQueriesContext(connection) as queries:
            assert web.get(reverse("staff:course", args=[course.uuid])).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


@pytest.mark.parametrize("bad", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_a_bad_or_unknown_course_id_is_a_404(staff_login, therapist, bad):
    web = staff_login(therapist)
    assert web.get(f"/staff/courses/{bad}/").status_code == 404


def test_a_client_never_reaches_the_staff_course_page(client, client_a, client_b):
    client.force_login(client_b.user)
    response = client.post(
        reverse("staff:course", args=[client_a.courses.get().uuid]),
        {"to_stage": "withdrawn", "reason": "x"},
    )
    assert response.status_code == 403
    assert Course.objects.get(client=client_a).stage == Stage.CONNECT


def test_garbage_filters_and_pages_still_show_the_list(staff_login, client_a, therapist):
    web = staff_login(therapist)
    for params in ({"stage": "garbage"}, {"page": "abc"}, {"page": "-5"}, {"page": "99999"}):
        assert web.get(reverse("staff:home"), params).status_code == 200


def test_each_course_the_list_shows_is_a_logged_read(staff_login, client_a, client_b, coordinator):
    from clinic.models import AccessLogEntry

    staff_login(coordinator).get(reverse("staff:home"))
    assert set(
        AccessLogEntry.objects.filter(actor=coordinator).values_list("client", flat=True)
    ) == {
        client_a.pk,
        client_b.pk,
    }


def test_reading_a_client_or_a_course_in_the_admin_is_logged(staff_login, client_a):
    from clinic.models import AccessLogEntry
    from clinic.tests.factories import UserFactory

    root = UserFactory(email="root@example.com", is_staff=True, is_superuser=True)
    web = staff_login(root)
    course = client_a.courses.get()
    for url in (
        reverse("admin:clinic_clientprofile_change", args=[client_a.pk]),
        reverse("admin:clinic_course_change", args=[course.pk]),
        reverse("admin:clinic_course_changelist"),
        reverse("admin:clinic_journeyevent_changelist"),
    ):
        assert web.get(url).status_code == 200
    logged = set(AccessLogEntry.objects.filter(actor=root).values_list("object_type", flat=True))
    assert logged == {"clinic.clientprofile", "clinic.course", "clinic.journeyevent"}


def test_a_course_moved_by_someone_else_meanwhile_is_refused_as_changed(
    staff_login, client_a, therapist
):
    """The page showed connect; another clinician has since put the course on
    hold: the withdrawal is refused with the reason, nothing moves."""
    course = Course.objects.get(client=client_a)
    web = staff_login(therapist)
    url = reverse("staff:course", args=[course.uuid])
    page = web.get(url).content.decode()
    assert 'name="from_stage" value="connect"' in page
    course_transition(course=course, to_stage=Stage.ON_HOLD, actor=therapist, reason="away")
    response = web.post(url, {"from_stage": "connect", "to_stage": "declined", "reason": "x"})
    assert "This course changed while you were looking at it" in response.content.decode()
    assert Course.objects.get(pk=course.pk).stage == Stage.ON_HOLD


def test_a_client_record_changed_in_the_admin_is_logged_as_a_change(staff_login, client_a):
    from clinic.models import AccessLogEntry
    from clinic.tests.factories import UserFactory

    root = UserFactory(email="root@example.com", is_staff=True, is_superuser=True)
    web = staff_login(root)
    url = reverse("admin:clinic_clientprofile_change", args=[client_a.pk])
    form = web.get(url).context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields}
    data.update(phone="+15145550999", user=client_a.user.pk, clinic=client_a.clinic.pk)
    assert web.post(url, data).status_code == 302
    assert AccessLogEntry.objects.filter(
        actor=root, client=client_a, action=AccessLogEntry.Action.CHANGE
    ).exists()


def test_the_course_history_is_shown_in_the_clinic_s_own_time(
    staff_login, clinic_bc, other_clinic_therapist
):
    """An evening event in Vancouver is already the next day in UTC."""
    from datetime import UTC, datetime

    from django.utils import timezone
    from django.utils.formats import date_format

    course = client_create(clinic=clinic_bc).courses.get()
    evening = datetime(2026, 6, 2, 3, 30, tzinfo=UTC)  # 20:30 on June 1 in Vancouver
    JourneyEvent.objects.filter(course=course).update(at=evening)
    page = staff_login(other_clinic_therapist).get(reverse("staff:course", args=[course.uuid]))
    local = timezone.localtime(evening, clinic_bc.zone)
    assert date_format(local, "SHORT_DATETIME_FORMAT") in page.content.decode()
    assert date_format(evening, "SHORT_DATETIME_FORMAT") not in page.content.decode()


@pytest.mark.parametrize("role", ["therapist", "medical_practitioner", "coordinator"])
def test_every_page_in_the_staff_menu_opens_for_its_reader(db, role, staff_login, request):
    import re

    person = request.getfixturevalue(role)
    browser = staff_login(person)
    page = browser.get(reverse("staff:home")).content.decode()
    menu = re.search(r'<nav class="nav nav-pills[^>]*>(.*?)</nav>', page, re.S).group(1)
    links = re.findall(r'href="([^"]+)"', menu)
    assert len(links) >= 5
    for link in links:
        assert browser.get(link).status_code == 200, (role, link)
    # Billing is the coordinators' work: only they see its menu entry.
    assert (reverse("billing:staff_invoices") in links) == (role == "coordinator")


def test_the_staff_menu_is_each_roles_in_the_persons_language_with_the_page_marked(
    staff_login, therapist, coordinator
):
    """The menu's HTML is kept per role, language and page
    (clinic.navigation.staff_nav_html): what one person saw never shows
    for another role, language or page."""
    from django.utils.html import escape
    from django.utils.translation import override

    from clinic.navigation import staff_pages

    def menu(response):
        html = response.content.decode()
        start = html.index('<nav class="nav nav-pills')
        return html[start : html.index("</nav>", start)]

    browser = staff_login(therapist)
    for language in ("en", "fr"):
        therapist.preferred_language = language
        therapist.save()
        shown = menu(browser.get(reverse("staff:home")))
        with override(language):
            labels = [str(page.label) for page in staff_pages(StaffRole.THERAPIST)]
        assert all(escape(label) in shown for label in labels), (language, shown)
        assert 'aria-current="page" href="/staff/"' in shown
    day = menu(browser.get(reverse("intake:staff_day")))
    assert f'aria-current="page" href="{reverse("intake:staff_day")}"' in day
    coordinator.preferred_language = "fr"
    coordinator.save()
    coordinator_menu = menu(staff_login(coordinator).get(reverse("staff:home")))
    for role, shown in ((StaffRole.THERAPIST, day), (StaffRole.COORDINATOR, coordinator_menu)):
        with override("fr"):
            expected = [escape(str(page.label)) for page in staff_pages(role)]
        assert [label for label in expected if label in shown] == expected
