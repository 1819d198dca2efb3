"""The screenings sent before submissions were kept become submissions, and
every decision points to the sending it was made on."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from clinic.tests.factories import client_create
from eligibility.screener import EXAMPLE_ANSWERS

BEFORE = [("eligibility", "0002_page_indexes")]
AFTER = [("eligibility", "0004_submissions_required_and_kept")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def back_to_the_latest_schema_after():
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_existing_screenings_and_decisions_get_their_submissions(
    clinic_qc, therapist, back_to_the_latest_schema_after
):
    courses = [client_create(clinic=clinic_qc).courses.get() for _ in range(4)]
    old = migrate(BEFORE)
    screening_model = old.get_model("eligibility", "Screening")
    decision_model = old.get_model("eligibility", "Decision")
    now = timezone.now()
    fields = {"clinic_id": clinic_qc.pk, "screener_version": 1, "rules_version": "2026.1"}
    sent = {
        "status": "submitted",
        "outcome": "likely_eligible",
        "reasons": [],
        "phq9_score": 10,
        "gad7_score": 4,
    }
    once = screening_model.objects.create(
        course_id=courses[0].pk,
        answers=EXAMPLE_ANSWERS,
        submitted_at=now - timedelta(days=3),
        **sent,
        **fields,
    )
    # Sent, "more information", sent again (overwriting), then eligible.
    twice = screening_model.objects.create(
        course_id=courses[1].pk,
        answers={**EXAMPLE_ANSWERS, "heart_disease": "no"},
        submitted_at=now - timedelta(days=2),
        **sent,
        **fields,
    )
    asked = decision_model.objects.create(
        screening=twice,
        clinician_id=therapist.pk,
        kind="more_information",
        note="Tell us more.",
        at=now - timedelta(days=5),
    )
    decided = decision_model.objects.create(
        screening=twice,
        clinician_id=therapist.pk,
        kind="eligible",
        note="Fit.",
        at=now - timedelta(days=1),
    )
    # Reopened by "more information" and not sent again yet.
    reopened = screening_model.objects.create(
        course_id=courses[2].pk, answers=EXAMPLE_ANSWERS, **fields
    )
    reopened_asked = decision_model.objects.create(
        screening=reopened,
        clinician_id=therapist.pk,
        kind="more_information",
        note="And?",
        at=now - timedelta(days=1),
    )
    never_sent = screening_model.objects.create(
        course_id=courses[3].pk, answers={"province": "QC"}, **fields
    )

    new = migrate(AFTER)
    submission_model = new.get_model("eligibility", "ScreeningSubmission")
    decision_model = new.get_model("eligibility", "Decision")

    [only] = submission_model.objects.filter(screening_id=once.pk)
    assert (only.number, only.previous_id, only.answers) == (1, None, EXAMPLE_ANSWERS)
    assert (only.outcome, only.submitted_at) == ("likely_eligible", once.submitted_at)

    first, second = submission_model.objects.filter(screening_id=twice.pk).order_by("number")
    assert (first.number, first.answers, first.submitted_at) == (1, None, None)  # overwritten
    assert (second.number, second.previous_id) == (2, first.pk)
    assert second.answers["heart_disease"] == "no"
    assert decision_model.objects.get(pk=asked.pk).submission_id == first.pk
    assert decision_model.objects.get(pk=decided.pk).submission_id == second.pk

    [earlier] = submission_model.objects.filter(screening_id=reopened.pk)
    assert (earlier.number, earlier.answers) == (1, None)
    assert decision_model.objects.get(pk=reopened_asked.pk).submission_id == earlier.pk

    assert not submission_model.objects.filter(screening_id=never_sent.pk).exists()
