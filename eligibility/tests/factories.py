from datetime import timedelta

from django.utils import timezone

from eligibility.models import Decision, Screening
from eligibility.screener import EXAMPLE_ANSWERS

GOOD_ANSWERS = EXAMPLE_ANSWERS


def submitted_screening(
    course, *, answers=None, days_ago: int = 1, outcome="likely_eligible"
) -> Screening:
    """Test set-up: a screening sent `days_ago` days ago."""
    at = timezone.now() - timedelta(days=days_ago)
    return Screening.objects.create(
        course=course,
        clinic=course.clinic,
        screener_version=1,
        rules_version="2026.1",
        status="submitted",
        answers=answers or dict(GOOD_ANSWERS),
        outcome=outcome,
        submitted_at=at,
        phq9_score=10,
        gad7_score=4,
    )


def eligible_decision(course, clinician, *, days_ago: int = 1) -> Decision:
    """Test set-up: an eligible decision on a current screening (the
    eligibility condition for connect -> prepare)."""
    screening = submitted_screening(course, days_ago=days_ago)
    return Decision.objects.create(
        screening=screening, clinician=clinician, kind="eligible", note="Good fit."
    )
