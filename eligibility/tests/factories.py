from datetime import timedelta

from django.utils import timezone

from eligibility.models import Decision, Screening, ScreeningSubmission
from eligibility.screener import EXAMPLE_ANSWERS

GOOD_ANSWERS = EXAMPLE_ANSWERS


def submitted_screening(
    course, *, answers=None, days_ago: int = 1, outcome="likely_eligible", reasons=()
) -> Screening:
    """Test set-up: a screening sent `days_ago` days ago (its submission 1)."""
    at = timezone.now() - timedelta(days=days_ago)
    answers = answers or dict(GOOD_ANSWERS)
    screening = Screening.objects.create(
        course=course,
        clinic=course.clinic,
        screener_version=1,
        rules_version="2026.1",
        status="submitted",
        answers=answers,
        outcome=outcome,
        reasons=list(reasons),
        submitted_at=at,
        phq9_score=10,
        gad7_score=4,
    )
    ScreeningSubmission.objects.create(
        screening=screening,
        number=1,
        answers=answers,
        rules_version=screening.rules_version,
        outcome=outcome,
        reasons=list(reasons),
        phq9_score=10,
        gad7_score=4,
        submitted_at=at,
    )
    return screening


def decide(screening, clinician, kind: str = "eligible", note: str = "x", **fields) -> Decision:
    """Test set-up: a decision on the screening's latest submission."""
    return Decision.objects.create(
        screening=screening,
        submission=screening.submissions.order_by("-number").first(),
        clinician=clinician,
        kind=kind,
        note=note,
        **fields,
    )


def eligible_decision(course, clinician, *, days_ago: int = 1) -> Decision:
    """Test set-up: an eligible decision on a current screening (the
    eligibility condition for connect -> prepare)."""
    screening = submitted_screening(course, days_ago=days_ago)
    return decide(screening, clinician, "eligible", "Good fit.")


def sent_screening(client_profile, **overrides) -> Screening:
    """Test set-up through the real services: the screener filled in (the
    example answers, with `overrides`) and sent."""
    from eligibility import screener, services

    screening = services.screening_start(client=client_profile)
    for step in screener.steps(screening.screener_version):
        screening, _crisis = services.screening_save_step(
            screening=screening, step=step, answers={**GOOD_ANSWERS, **overrides}
        )
    return services.screening_submit(screening=screening)


def resent_after_more_information(screening, clinician, **changes) -> Screening:
    """Test set-up through the real services: a clinician asks for more
    information, the client changes `changes` in the reopened draft and sends
    it again."""
    from eligibility import screener, services

    services.decision_record(
        screening=screening, clinician=clinician, kind="more_information", note="Tell us more."
    )
    draft = Screening.objects.get(pk=screening.pk)
    for step in screener.steps(draft.screener_version):
        touched = {k: v for k, v in changes.items() if k in step.form.base_fields}
        if touched:
            draft, _crisis = services.screening_save_step(
                screening=draft, step=step, answers=touched
            )
    return services.screening_submit(screening=draft)
