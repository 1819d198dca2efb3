"""Every admin list staff open costs the same queries at two sizes: the
walk covers every registered ModelAdmin, with more clients, courses, calls,
screenings, appointments, sessions, consents, invoices and payments, access
log entries and closure requests the second time."""

from datetime import timedelta

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from billing import services as billing
from billing.tests.factories import billing_ready, billing_staff, held, paid
from clinic.access_log import access_log_record
from clinic.models import AccountClosureRequest, JourneyEvent, StaffRole, Stage
from clinic.tests.factories import RoomFactory, client_create, staff_create
from eligibility.tests.factories import submitted_screening
from intake.tests.factories import held_intake_call
from sessions import content
from sessions.models import Consent
from sessions.selectors.prepare import document_in_force
from sessions.tests.record_factories import course_in, preparation_at, session_at

GROWN = [
    f"/admin/{label}/"
    for label in (
        "clinic/user",
        "clinic/staffprofile",
        "clinic/room",
        "clinic/clientprofile",
        "clinic/course",
        "clinic/journeyevent",
        "clinic/accesslogentry",
        "clinic/appointment",
        "clinic/accountclosurerequest",
        "intake/intakecall",
        "eligibility/screening",
        "dosing/consent",
        "dosing/preparationappointment",
        "dosing/dosingseries",
        "dosing/dosingsession",
        "billing/invoice",
        "billing/payment",
    )
]


def grow(clinic, therapist, practitioner, biller, count: int, offset: int) -> None:
    """`count` more clients of the clinic, each with a row in every list."""
    now = timezone.now().replace(microsecond=0)
    # The migration installs the documents; a transactional test before this
    # one may have flushed them.
    content.install()
    document = document_in_force(kind="filming", language="en")
    for n in range(offset, offset + count):
        client = client_create(clinic=clinic, email=f"grown{n}@example.com")
        course = client.courses.get()
        held_intake_call(course, therapist, days_ago=2 + n)
        submitted_screening(course, days_ago=1 + n)
        appointment = held(client=client, start=now - timedelta(days=60 + n), staff=[therapist])
        invoice = billing.invoice_draft(client=client, appointments=[appointment], actor=biller)
        invoice = billing.invoice_issue(invoice=invoice, actor=biller)
        paid(invoice, biller)
        course = course_in(course, Stage.DOSING)
        JourneyEvent.objects.create(
            course=course, from_stage=Stage.CONNECT, to_stage=Stage.DOSING, actor=therapist
        )
        preparation_at(course, practitioner, start=now - timedelta(days=30 + n))
        session_at(course, therapist, practitioner, start=now - timedelta(days=10 + n))
        Consent.objects.create(
            course=course,
            document=document,
            decision=Consent.Decision.DECLINED,
            text_sha256=document.sha256,
            language="en",
            at=now,
        )
        access_log_record(actor=therapist, client=client, obj=client)
        AccountClosureRequest.objects.create(client=client, reason="Moving away.")
        staff_create(role=StaffRole.THERAPIST, clinics=[clinic], email=f"staff{n}@example.com")
        RoomFactory(clinic=clinic)


def test_every_admin_list_costs_the_same_queries_at_two_sizes(
    staff_login, clinic_qc, therapist, medical_practitioner, coordinator, superusers
):
    billing_ready(clinic_qc)
    biller = billing_staff(coordinator)
    changelists = [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for model in admin.site._registry
    ]

    def counts() -> dict[str, tuple[int, int]]:
        """url -> (queries, rows) for the first reader the list opens to."""
        found: dict[str, tuple[int, int]] = {}
        for person in superusers:
            browser = staff_login(person)
            browser.get(reverse("admin:index"))  # the session's first request records it
            for url in changelists:
                if url in found:
                    continue
                with CaptureQueriesContext(connection) as queries:
                    response = browser.get(url)
                if response.status_code == 200:
                    found[url] = (len(queries), response.context["cl"].result_count)
        return found

    grow(clinic_qc, therapist, medical_practitioner, biller, 1, 0)
    small = counts()
    grow(clinic_qc, therapist, medical_practitioner, biller, 9, 1)
    large = counts()
    assert small.keys() == large.keys() == set(changelists)
    grown = [url for url in changelists if large[url][1] > small[url][1]]
    # The lists the data reaches (the others hold settings, or nothing here).
    assert set(GROWN) <= set(grown), sorted(set(GROWN) - set(grown))
    assert {url: small[url][0] for url in changelists} == {
        url: large[url][0] for url in changelists
    }
    assert max(queries for queries, _rows in large.values()) <= 11  # the access log's list


@pytest.mark.parametrize("size", [1, 10])
def test_the_change_pages_with_inline_rows_cost_the_same_queries_at_two_sizes(
    staff_login, client_a, therapist, coordinator, size, django_assert_max_num_queries
):
    """A course with its journey events, a call with its outcomes and their
    corrections, an invoice with its lines: one and ten inline rows."""
    from intake.models import IntakeCallOutcome

    billing_ready(client_a.clinic)
    biller = billing_staff(coordinator)
    course = client_a.courses.get()
    JourneyEvent.objects.bulk_create(
        JourneyEvent(course=course, from_stage="connect", to_stage="connect", reason=f"event {n}")
        for n in range(size)
    )
    call = held_intake_call(course, therapist)
    last = call.outcomes.get()
    for n in range(size - 1):
        last = IntakeCallOutcome.objects.create(
            call=call, outcome="held", by=therapist, corrects=last, reason=f"Correction {n}"
        )
    now = timezone.now().replace(microsecond=0)
    appointments = [
        held(client=client_a, start=now - timedelta(days=40 + n), staff=[therapist])
        for n in range(size)
    ]
    invoice = billing.invoice_draft(client=client_a, appointments=appointments, actor=biller)
    pages = [
        (therapist, reverse("admin:clinic_course_change", args=[course.pk]), 14),
        (therapist, reverse("admin:intake_intakecall_change", args=[call.pk]), 18),
        (biller, reverse("admin:billing_invoice_change", args=[invoice.pk]), 19),
    ]
    # The first admin page a process renders reads a content type that
    # Django then keeps in memory: each budget is the count in a new process.
    for person, url, budget in pages:
        browser = staff_login(person)
        browser.get(reverse("admin:index"))  # the session's first request records it
        with django_assert_max_num_queries(budget):
            response = browser.get(url)
        assert response.status_code == 200
        inline = response.context["inline_admin_formsets"][0]
        assert len(inline.formset.queryset) >= size, url
