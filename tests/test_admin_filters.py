"""Bad filter values on any admin list (a NUL byte, a number too big for
any column or date, garbage) give the unfiltered list with a message,
never a server error. The walk covers every registered ModelAdmin, each
filter's own parameters and its field's bare name, the date hierarchy and
the search box."""

import pytest
from django.contrib import admin
from django.contrib.admin.filters import FieldListFilter
from django.contrib.admin.utils import get_fields_from_path
from django.test import RequestFactory
from django.urls import reverse

from clinic import access_log
from clinic.models import AccountClosureRequest
from eligibility.tests.factories import submitted_screening
from intake.tests.factories import held_intake_call

BAD_VALUES = [
    "\x00",
    "99999999999999999999",
    "1e400",
    "9999",
    "-1",
    "garbage",
    "",
]
# The date hierarchy's year, month and day together, at the edges of the calendar.
BAD_DATES = [
    {"year": "9999"},
    {"year": "9999", "month": "12"},
    {"year": "9999", "month": "12", "day": "31"},
    {"year": "1", "month": "1", "day": "1"},
    {"year": "2026", "month": "13"},
    {"year": "2026", "month": "2", "day": "30"},
    {"year": "99999999999999999999", "month": "1"},
    {"year": "2026", "month": "\x00"},
]
INVALID = "is not valid"


def filter_parameters(model_admin) -> set[str]:
    """Every query parameter a list filter of this admin reads, found the
    way Django's ChangeList builds the filters, plus each field's bare name."""
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get("/")
    # Filters whose choices come from the admin's own rows read the person's
    # clinics: nobody's, here (only the parameter names are wanted).
    request.user = AnonymousUser()
    names = set()
    for list_filter in model_admin.list_filter:
        if isinstance(list_filter, str | tuple | list):
            path, filter_class = (
                (list_filter, FieldListFilter.create)
                if isinstance(list_filter, str)
                else list_filter
            )
            field = get_fields_from_path(model_admin.model, path)[-1]
            spec = filter_class(field, request, {}, model_admin.model, model_admin, field_path=path)
            names |= {path, f"{path}__exact"}
        else:
            spec = list_filter(request, {}, model_admin.model, model_admin)
        names |= set(spec.expected_parameters())
    return names


def query_strings(model_admin):
    for name in sorted(filter_parameters(model_admin)):
        for value in BAD_VALUES:
            yield {name: value}
    if model_admin.date_hierarchy:
        field = model_admin.date_hierarchy
        for value in BAD_VALUES:
            yield {f"{field}__year": value}
        for date in BAD_DATES:
            yield {f"{field}__{part}": value for part, value in date.items()}
    if model_admin.search_fields:
        yield {"q": "\x00"}
    yield {"p": "99999999999999999999"}


@pytest.fixture
def some_rows(client_a, therapist):
    """A row or two in the lists, so that filters show and queries return rows."""
    course = client_a.courses.get()
    held_intake_call(course, therapist)
    submitted_screening(course)
    access_log.access_log_record(actor=therapist, client=client_a, obj=client_a)
    AccountClosureRequest.objects.create(client=client_a, reason="Moving away.")


def test_no_admin_list_answers_a_bad_filter_value_with_a_server_error(
    staff_login, superusers, some_rows
):
    failures = []
    for model, model_admin in admin.site._registry.items():
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        web = next(
            (
                web
                for person in superusers
                if (web := staff_login(person)).get(url).status_code == 200
            ),
            None,
        )
        assert web is not None, f"no superuser reads {url}"
        for params in query_strings(model_admin):
            try:
                status = web.get(url, params).status_code
            except Exception as exc:  # the test client raises what would be a 500
                status = f"500 {type(exc).__name__}: {exc}"
            if str(status).startswith("5"):
                failures.append(f"{url} {params!r}: {status}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    ("url_name", "params"),
    [
        ("admin:eligibility_screening_changelist", {"outcome": "\x00"}),
        ("admin:clinic_accesslogentry_changelist", {"action__exact": "\x00"}),
        ("admin:clinic_accountclosurerequest_changelist", {"status__exact": "\x00"}),
        ("admin:clinic_accesslogentry_changelist", {"at__year": "99999999999999999999"}),
        ("admin:clinic_accesslogentry_changelist", {"at__year": "9999"}),
    ],
)
def test_a_bad_filter_value_gives_the_whole_list_and_says_so(
    staff_login, superusers, some_rows, url_name, params
):
    url = reverse(url_name)
    web = next(
        web for person in superusers if (web := staff_login(person)).get(url).status_code == 200
    )
    response = web.get(url, params, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == f"{url}?e=1"
    assert INVALID in response.content.decode()


def test_the_message_speaks_the_persons_language(staff_login, superusers, some_rows):
    root = superusers[0]
    root.preferred_language = "fr"
    root.save(update_fields=["preferred_language"])
    url = reverse("admin:clinic_accesslogentry_changelist")
    response = staff_login(root).get(url, {"action__exact": "\x00"}, follow=True)
    assert "Ce filtre n’est pas valide" in response.content.decode()


def test_the_select_boxes_search_refuses_a_nul_byte(staff_login, superusers):
    response = staff_login(superusers[0]).get(
        reverse("admin:autocomplete"),
        {"term": "\x00", "app_label": "clinic", "model_name": "staffprofile", "field_name": "user"},
    )
    assert response.status_code == 400
