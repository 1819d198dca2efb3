"""Set-up for the measures' tests, the browser tests and the benchmark:
a baseline (the screening's PHQ-9 and GAD-7), invitations, answers."""

from datetime import datetime, timedelta

from django.utils import timezone

from clinic.models import Course
from eligibility.models import QuestionnaireResponse
from eligibility.questionnaires import GAD7, PHQ9
from eligibility.tests.factories import submitted_screening
from integration.measures import services
from integration.measures.models import MeasureInvitation


def answers_scoring(score: int, items: int, *, risk: int = 0) -> list[int]:
    """Answers adding up to `score`, filled from the first item; item 9 of the
    PHQ-9 (the last) stays at `risk`."""
    values = [0] * items
    left = score - risk
    for i in range(items - (1 if items == 9 else 0)):
        values[i] = min(3, left)
        left -= values[i]
    if items == 9:
        values[8] = risk
    assert left == 0 and sum(values) == score
    return values


def baseline(course: Course, *, phq9: int = 16, gad7: int = 12, at: datetime | None = None):
    """The screening's answers: the baseline of the charts."""
    screening = submitted_screening(course)
    at = at or timezone.now() - timedelta(days=60)
    for definition, score in ((PHQ9, phq9), (GAD7, gad7)):
        QuestionnaireResponse.objects.create(
            client=course.client,
            screening=screening,
            questionnaire=definition.code,
            answers=answers_scoring(score, len(definition.items)),
            score=score,
            band=definition.band(score).code,
            at=at,
        )
    return screening


def follow_up(
    course: Course, *, days: int = 7, opens_at: datetime | None = None, valid_days: int = 14
) -> MeasureInvitation:
    opens_at = opens_at or timezone.now() - timedelta(hours=1)
    return MeasureInvitation.objects.create(
        client=course.client,
        course=course,
        kind=MeasureInvitation.Kind.FOLLOW_UP,
        follow_up_days=days,
        opens_at=opens_at,
        expires_at=opens_at + timedelta(days=valid_days),
    )


def answer(invitation: MeasureInvitation, *, phq9: int, gad7: int, now=None):
    return services.invitation_answer(
        invitation=invitation,
        client=invitation.client,
        phq9=answers_scoring(phq9, 9),
        gad7=answers_scoring(gad7, 7),
        now=now,
    )
