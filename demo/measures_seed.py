"""Scores for the demo and the scale data: follow-up questionnaires after
the series, answered over months, on top of the screening's baseline."""

import random
from datetime import datetime, timedelta

from django.utils import timezone

from clinic.models import Course
from eligibility.models import QuestionnaireResponse
from eligibility.questionnaires import GAD7, PHQ9
from integration.measures import services as measures
from integration.measures.models import DEFAULT_FOLLOW_UP_DAYS, MeasureInvitation


def answers_for(score: int, items: int) -> list[int]:
    """Plausible answers adding up to `score`, item 9 of the PHQ-9 at 0."""
    values = [0] * items
    left = score
    last = items - 1 if items == 9 else items  # never a risk answer in made-up data
    if not 0 <= score <= 3 * last:
        raise ValueError(f"{score} cannot be made of {last} answers")
    while left > 0:
        for i in range(last):
            if left and values[i] < 3:
                values[i] += 1
                left -= 1
    return values


def demo_scores(course: Course, *, ended_days_ago: int, scores: list[tuple[int, int]]) -> None:
    """The course's series ended `ended_days_ago` days ago: its follow-ups
    (written by the journey when it left dosing) are moved back to then and
    answered with `scores` (PHQ-9, GAD-7) in order; one not reached yet stays
    ahead, one open now stays open (due). The screening's answers become the
    baseline two months before the series ended. Idempotent: a course with
    an answer already is left alone."""
    invitations = list(
        MeasureInvitation.objects.filter(course=course, kind=MeasureInvitation.Kind.FOLLOW_UP)
    )
    if not invitations or any(i.answered_at for i in invitations):
        return
    now = timezone.now()
    ended = now - timedelta(days=ended_days_ago)
    QuestionnaireResponse.objects.filter(client=course.client, screening__course=course).update(
        at=ended - timedelta(days=60)
    )
    for invitation, (phq9, gad7) in zip(
        sorted(invitations, key=lambda i: i.follow_up_days), scores, strict=False
    ):
        opens = ended + timedelta(days=invitation.follow_up_days)
        valid = invitation.expires_at - invitation.opens_at
        MeasureInvitation.objects.filter(pk=invitation.pk).update(
            opens_at=opens, expires_at=opens + valid
        )
        invitation.refresh_from_db()
        answered_at = opens + timedelta(days=1)
        if answered_at < now:
            measures.invitation_answer(
                invitation=invitation,
                client=course.client,
                phq9=answers_for(phq9, len(PHQ9.items)),
                gad7=answers_for(gad7, len(GAD7.items)),
                now=answered_at,
            )


def scale_measures(*, courses: list[Course], now: datetime, rng: random.Random) -> int:
    """For each course past dosing, the default follow-ups after a series
    that ended 10 to 120 days ago, most of those reached answered, with
    scores falling from the screening's 9 / 7 (bulk inserts)."""
    invitations, responses = [], []
    for course in courses:
        ended = now - timedelta(days=rng.randint(10, 120))
        phq9, gad7 = 9, 7
        for days in DEFAULT_FOLLOW_UP_DAYS:
            opens = ended + timedelta(days=days)
            invitation = MeasureInvitation(
                client_id=course.client_id,
                course=course,
                kind=MeasureInvitation.Kind.FOLLOW_UP,
                follow_up_days=days,
                opens_at=opens,
                expires_at=opens + timedelta(days=14),
            )
            invitations.append(invitation)
            if opens + timedelta(days=1) < now and rng.random() < 0.8:
                phq9 = max(0, min(24, phq9 + rng.randint(-4, 2)))
                gad7 = max(0, min(21, gad7 + rng.randint(-3, 2)))
                at = opens + timedelta(days=1)
                pair = []
                for definition, score in ((PHQ9, phq9), (GAD7, gad7)):
                    pair.append(
                        QuestionnaireResponse(
                            client_id=course.client_id,
                            questionnaire=definition.code,
                            answers=answers_for(score, len(definition.items)),
                            score=score,
                            band=definition.band(score).code,
                            at=at,
                        )
                    )
                responses.extend(pair)
                invitation.answered_at = at
                invitation._pair = pair  # type: ignore[attr-defined]
    QuestionnaireResponse.objects.bulk_create(responses, batch_size=5000)
    for invitation in invitations:
        pair = getattr(invitation, "_pair", None)
        if pair:
            invitation.phq9, invitation.gad7 = pair
    MeasureInvitation.objects.bulk_create(invitations, batch_size=5000, ignore_conflicts=True)
    return sum(1 for i in invitations if i.answered_at)
