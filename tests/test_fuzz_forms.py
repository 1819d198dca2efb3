"""Every form in the app, fed generated data: no response is a server error,
and a refused form leaves no partial write behind."""

import uuid

import pytest
from django.apps import apps
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intake.selectors import intake_slots
from intake.tests.factories import book_call, rules, weekly_availability
from tests.counting import rows_per_model

junk = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=200, max_size=3000),
    st.integers(min_value=-(10**12), max_value=10**12).map(str),
    st.sampled_from(
        [
            "",
            " ",
            "0",
            "-1",
            "9999-12-31",
            "2026-02-30",
            "null",
            "<script>",
            "'; DROP TABLE x;--",
            "on",
            "yes",
            "no",
            "fr",
            "en",
            "anxiety",
            "chronic_pain",
            str(uuid.uuid4()),
        ]
    ),
)

# (url, fields, who posts): the fields each form reads, so examples reach validation.
FORMS = {
    "booking": (
        "book",
        [
            "first_name",
            "last_name",
            "email",
            "phone",
            "language",
            "concern",
            "consent_to_contact",
            "submission",
        ],
        "anonymous",
    ),
    "booking_signed_in": (
        "book",
        ["phone", "language", "concern", "consent_to_contact", "submission"],
        "client",
    ),
    "interest": (
        "/book/interest/",
        ["name", "email", "concern", "clinic", "language", "consent"],
        "anonymous",
    ),
    "signup": (
        "/accounts/signup/",
        [
            "first_name",
            "last_name",
            "email",
            "clinic",
            "preferred_language",
            "password1",
            "password2",
        ],
        "anonymous",
    ),
    "login": ("/accounts/login/", ["login", "password"], "anonymous"),
    "language": ("/i18n/setlang/", ["language", "next"], "anonymous"),
    "my_data": (
        "/portal/my-data/",
        ["action", "research", "marketing", "confirm", "reason"],
        "client",
    ),
    "staff_course": ("course", ["to_stage", "reason"], "therapist"),
    "staff_call": ("call", ["action", "outcome", "notes", "reason", "seen_outcome"], "therapist"),
    "manage_link": ("manage", ["action", "slot"], "anonymous"),
    # The client's preparation (a course in prepare).
    "module_read": ("module", ["version"], "preparing"),
    "consent_treatment": (
        "treatment",
        ["action", "sha256", "language", "typed_name", "agree", "course"],
        "preparing",
    ),
    "consent_filming": (
        "filming",
        ["action", "sha256", "language", "typed_name", "agree"],
        "preparing",
    ),
    "filming_withdraw": ("/portal/preparation/filming/withdraw/", ["consent"], "preparing"),
    "preferences": (
        "/portal/preparation/preferences/",
        ["eye_shades", "sound", "escort_name", "escort_phone", "notes"],
        "preparing",
    ),
    # Billing staff on an issued invoice: a payment, a credit note, the other actions.
    "billing_payment": (
        "invoice",
        [
            "action",
            "pay-method",
            "pay-amount",
            "pay-received_on",
            "pay-reference",
            "pay-submission",
        ],
        "biller",
    ),
    "billing_credit": ("invoice", ["action", "credit-reason"], "biller"),
    "billing_estimate": ("/portal/billing/estimate/", ["sessions"], "client"),
    "billing_action": ("invoice", ["action"], "biller"),
}


def row_counts():
    # Every stored row but the access log, which a staff page writes to on
    # every read, refused form or not.
    return rows_per_model(
        m
        for m in apps.get_models()
        if m._meta.app_label in {"clinic", "intake", "eligibility", "dosing", "billing"}
        and m._meta.label != "clinic.AccessLogEntry"
    )


def refused(response) -> bool:
    """The person was told their input was not accepted: a form shown again
    with its errors, an error on the page, or an error message after a redirect."""
    from django.contrib.messages import ERROR, get_messages
    from django.forms import BaseForm

    values = {}
    for context in response.context or []:  # the test client's list of rendered contexts
        values.update(context.flatten())
    if any(isinstance(v, BaseForm) and v.is_bound and v.errors for v in values.values()):
        return True
    if values.get("error"):
        return True
    return any(m.level == ERROR for m in get_messages(response.wsgi_request))


def reached_the_form(response) -> bool:
    """The POST got as far as the form: not stopped by a rate limit, a
    sign-in redirect or a refusal of the person."""
    if getattr(response.wsgi_request, "limited", False) or response.status_code in (403, 404, 429):
        return False
    return not (response.status_code == 302 and "/accounts/login/" in response["Location"])


@pytest.fixture
def no_rate_limits(settings):
    """The limits are tested on their own (intake/tests/test_booking.py,
    clinic/tests/test_login_limits.py); here they would stop the examples
    before the form, and a second run within the hour would reach nothing."""
    settings.RATELIMIT_ENABLE = False
    settings.ACCOUNT_RATE_LIMITS = False


# form -> [examples that reached the form, examples sent]; printed at the end of
# the run (tests/conftest.py, pytest_terminal_summary).
# form -> [examples that reached the form, examples sent, examples refused]; printed
# at the end of the run (tests/conftest.py, pytest_terminal_summary).
REACHED: dict[str, list[int]] = {}
# Fields sent as they are, so the examples reach the form behind a button.
FIXED = {"billing_payment": {"action": "pay"}, "billing_credit": {"action": "credit"}}


@pytest.fixture
def places(clinic_qc, client_a, client_b, therapist, staff_login):
    from django.test import Client

    from intake import services

    rules(clinic_qc, minimum_notice_hours=0)
    weekly_availability(clinic_qc, therapist)
    slot = next(s for day in intake_slots(clinic=clinic_qc).values() for s in day)
    call = book_call(
        clinic_qc, slot.start, email=client_a.user.email, concern="anxiety", user=client_a.user
    )
    anonymous = Client(HTTP_ACCEPT_LANGUAGE="en")
    signed_in = Client(HTTP_ACCEPT_LANGUAGE="en")
    signed_in.force_login(client_a.user)
    staff = staff_login(therapist)
    from clinic.models import Course
    from sessions import content

    content.install()
    Course.objects.filter(client=client_b).update(stage="prepare")
    preparing = Client(HTTP_ACCEPT_LANGUAGE="en")
    preparing.force_login(client_b.user)
    later = next(
        s for day in intake_slots(clinic=clinic_qc).values() for s in day if s.start > slot.start
    )
    # An issued invoice of client A's, and a coordinator who bills (their group).
    from datetime import timedelta

    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.utils import timezone

    from billing import services as billing
    from billing.tests.factories import billing_ready, billing_staff, held
    from clinic.models import StaffRole
    from clinic.signals import MFA_ACTIVATED_SESSION_KEY
    from clinic.tests.factories import staff_create

    billing_ready(clinic_qc)
    coordinator = billing_staff(staff_create(role=StaffRole.COORDINATOR, clinics=[clinic_qc]))
    invoice = billing.invoice_issue(
        invoice=billing.invoice_draft(
            client=client_a,
            appointments=[
                held(client=client_a, start=timezone.now() - timedelta(days=9), staff=[therapist])
            ],
            actor=coordinator,
        ),
        actor=coordinator,
    )
    TOTP.activate(coordinator, generate_totp_secret())
    biller = Client(HTTP_ACCEPT_LANGUAGE="en")
    biller.force_login(coordinator)
    session = biller.session
    session[MFA_ACTIVATED_SESSION_KEY] = True
    session.save()
    urls = {
        "invoice": f"/staff/billing/{invoice.uuid}/",
        "book": f"/book/{clinic_qc.slug}/{later.key}/",
        "course": f"/staff/courses/{client_a.courses.get().uuid}/",
        "call": f"/staff/intake/calls/{call.uuid}/",
        "manage": f"/book/manage/{services.manage_token(call)}/",
        "module": "/portal/preparation/modules/what-to-expect/",
        "treatment": "/portal/preparation/consents/treatment/",
        "filming": "/portal/preparation/consents/filming/",
    }
    return {
        "anonymous": anonymous,
        "client": signed_in,
        "therapist": staff,
        "preparing": preparing,
        "biller": biller,
        "urls": urls,
    }


FUZZ = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.mark.parametrize("form", sorted(FORMS))
@FUZZ
@given(data=st.data())
def test_no_form_answers_with_a_server_error(places, no_rate_limits, form, data):
    url, fields, who = FORMS[form]
    url = places["urls"].get(url, url)
    payload = data.draw(st.fixed_dictionaries({}, optional={name: junk for name in fields}))
    payload.update(FIXED.get(form, {}))
    counts = REACHED.setdefault(form, [0, 0, 0])
    with transaction.atomic():
        before = row_counts()
        response = places[who].post(url, payload)
        assert response.status_code < 500, (form, payload)
        counts[1] += 1
        if reached_the_form(response):
            counts[0] += 1
        if refused(response):
            counts[2] += 1
            # A refused input changed nothing.
            assert row_counts() == before, (form, payload)
        transaction.set_rollback(True)


@pytest.mark.parametrize("form", sorted(FORMS))
def test_the_fuzzing_reached_every_form(form):
    """Runs after the fuzzing above (same module, later): most examples of
    every form must have got past the limits and the sign-in to the form."""
    reached, total, _refused = REACHED.get(form, (0, 0, 0))
    assert total and reached >= total * 0.8, (form, reached, total)
