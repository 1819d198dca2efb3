"""Invitations to answer the PHQ-9 and GAD-7, and the answers. The
invitations are written by two hooks, each inside the transaction that
causes them: a dosing session booked or moved (one invitation, sent a few
days before, answerable until the session starts) and the course leaving
dosing for integrate (the follow-ups, e.g. one week, one month and three
months later, each answerable for `valid_days`). Their e-mails are outbox
rows due when the invitation opens."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from clinic.models import Appointment, Course, OutboxMessage, Stage
from clinic.outbox import outbox_enqueue, outbox_enqueue_many
from eligibility import rules
from eligibility import services as eligibility_services
from eligibility.questionnaires import GAD7, PHQ9

from .models import MeasureInvitation
from .selectors import measure_settings

INVITATION_EMAIL = "measures.invitation"
CRISIS_ALERT = "measures.crisis_alert"
CRISIS_ALERT_ONE = "measures.crisis_alert.one"  # one row per clinician alerted

MSG_USED = gettext_noop("This questionnaire has already been answered. Thank you.")
MSG_EXPIRED = gettext_noop(
    "This questionnaire can no longer be answered: the time to answer it has passed."
)
MSG_NOT_YET = gettext_noop("This questionnaire is not open yet.")
MSG_SESSION_CANCELLED = gettext_noop(
    "This questionnaire was for a dosing session that is no longer booked."
)
MSG_IMPOSSIBLE = gettext_noop("Please answer every question with one of the choices given.")


class MeasureError(Exception):
    """An answer the rules refuse; `str()` is a sentence for the client.
    `crisis` says the refused answers still signalled a risk of self-harm
    (the team was alerted and the resources are shown)."""

    def __init__(self, message: str, *, crisis: bool = False):
        super().__init__(message)
        self.crisis = crisis


# --- Writing the invitations (hooks) --------------------------------------------------


def _email_row(invitation: MeasureInvitation) -> dict:
    # Keyed by when it opens: a moved session's new time is a new e-mail,
    # and the one queued for the old time finds it stale and skips.
    opens = invitation.opens_at.astimezone(UTC).isoformat()
    return {
        "kind": INVITATION_EMAIL,
        "key": f"{invitation.uuid}:{opens}",
        "payload": {"invitation": str(invitation.uuid), "opens_at": opens},
        "due_at": invitation.opens_at,
    }


def before_dosing_invitations(sessions, *, now: datetime | None = None) -> None:
    """Registered with the dosing scheduler (booked or moved sessions): one
    invitation per session, opening `days_before_dosing` before it (or now,
    for a session booked sooner) and answerable until it starts. A move
    re-times an invitation not yet answered."""
    now = now or timezone.now()
    emails = []
    for session in sessions:
        appointment = session.appointment
        course = session.series.course
        if appointment.start <= now:
            continue
        settings = measure_settings(appointment.clinic)
        opens = max(now, appointment.start - timedelta(days=settings.days_before_dosing))
        current = (
            MeasureInvitation.objects.select_for_update()
            .filter(kind=MeasureInvitation.Kind.BEFORE_DOSING, appointment=appointment)
            .first()
        )
        if current is None:
            current = MeasureInvitation(
                client_id=course.client_id,
                course=course,
                kind=MeasureInvitation.Kind.BEFORE_DOSING,
                appointment=appointment,
                opens_at=opens,
                expires_at=appointment.start,
            )
            current.full_clean(exclude=["client", "course", "appointment"])
            current.save()
        elif current.answered_at is None and (current.opens_at, current.expires_at) != (
            opens,
            appointment.start,
        ):
            MeasureInvitation.objects.filter(pk=current.pk, answered_at__isnull=True).update(
                opens_at=opens, expires_at=appointment.start
            )
            current.opens_at, current.expires_at = opens, appointment.start
        else:
            continue
        emails.append(_email_row(current))
    outbox_enqueue_many(emails)


def follow_ups_schedule(course: Course, from_stage: str, *, now: datetime | None = None) -> None:
    """Registered for the course entering integrate: when it comes from
    dosing (the series ended), the clinic's follow-ups are written, each
    opening its number of days later. Idempotent (one per course and day)."""
    if from_stage != Stage.DOSING:
        return
    now = now or timezone.now()
    settings = measure_settings(course.clinic)
    invitations = []
    for days in settings.follow_up_days:
        opens = now + timedelta(days=days)
        invitations.append(
            MeasureInvitation(
                client_id=course.client_id,
                course=course,
                kind=MeasureInvitation.Kind.FOLLOW_UP,
                follow_up_days=days,
                opens_at=opens,
                expires_at=opens + timedelta(days=settings.valid_days),
            )
        )
    MeasureInvitation.objects.bulk_create(invitations, ignore_conflicts=True)
    # Read back (ignore_conflicts leaves no keys): the rows that exist now.
    stored = MeasureInvitation.objects.filter(
        course=course, kind=MeasureInvitation.Kind.FOLLOW_UP, answered_at__isnull=True
    )
    outbox_enqueue_many([_email_row(invitation) for invitation in stored])


# --- Answering ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Answered:
    invitation: MeasureInvitation
    crisis: bool


def _valid(definition, answers) -> list[int]:
    try:
        values = [int(a) for a in answers]
        definition.score(values)
    except (TypeError, ValueError) as exc:
        raise MeasureError(_(MSG_IMPOSSIBLE)) from exc
    return values


def _crisis_alert(invitation: MeasureInvitation, *, key: str) -> None:
    outbox_enqueue(kind=CRISIS_ALERT, key=key, payload={"invitation": str(invitation.uuid)})


def invitation_refusal(invitation: MeasureInvitation, now: datetime) -> str | None:
    """Why the invitation cannot be answered now (the sentence the client
    reads), or None: the page and the service ask the same question."""
    if invitation.answered_at is not None:
        return _(MSG_USED)
    if invitation.opens_at > now:
        return _(MSG_NOT_YET)
    if invitation.expires_at <= now:
        return _(MSG_EXPIRED)
    if (
        invitation.kind == MeasureInvitation.Kind.BEFORE_DOSING
        and invitation.appointment is not None
        and invitation.appointment.status != Appointment.Status.BOOKED
    ):
        return _(MSG_SESSION_CANCELLED)
    return None


def invitation_answer(
    *,
    invitation: MeasureInvitation,
    client,
    phq9: list,
    gad7: list,
    now: datetime | None = None,
) -> Answered:
    """The client answers an invitation of their own: the two responses are
    scored by eligibility's definitions and the invitation is marked answered
    with a conditional update, so a double submit or a second tab answers
    once. An expired, used or not-yet-open invitation is refused, nothing
    saved. A risk answer (PHQ-9 item 9 above 0) alerts the clinical team in
    the same transaction, as the screener does, even when the answer itself
    is refused (a risk is never ignored)."""
    now = now or timezone.now()
    if invitation.client_id != client.pk:
        raise MeasureInvitation.DoesNotExist  # a view scopes by client first: never reached
    phq9_values = _valid(PHQ9, phq9)
    gad7_values = _valid(GAD7, gad7)
    crisis = rules.crisis_signalled({"phq9": phq9_values})
    try:
        with transaction.atomic():
            current = (
                MeasureInvitation.objects.select_for_update(of=("self",))
                .select_related("appointment")
                .get(pk=invitation.pk)
            )
            refusal = invitation_refusal(current, now)
            if refusal is not None:
                raise MeasureError(refusal, crisis=crisis)
            phq9_row = eligibility_services.questionnaire_record(
                client=client, questionnaire=PHQ9.code, answers=phq9_values, at=now
            )
            gad7_row = eligibility_services.questionnaire_record(
                client=client, questionnaire=GAD7.code, answers=gad7_values, at=now
            )
            # The lock above makes this one step; the condition is the last line.
            updated = MeasureInvitation.objects.filter(
                pk=current.pk, answered_at__isnull=True, expires_at__gt=now
            ).update(answered_at=now, phq9=phq9_row, gad7=gad7_row)
            if updated != 1:
                raise MeasureError(_(MSG_USED), crisis=crisis)
            if crisis:
                _crisis_alert(current, key=str(current.uuid))
    except MeasureError:
        if crisis:
            # Not saved, but the team hears of it once (a refresh alerts once).
            with transaction.atomic():
                key = f"{invitation.uuid}:unsaved"
                if not OutboxMessage.objects.filter(kind=CRISIS_ALERT, key=key).exists():
                    _crisis_alert(invitation, key=key)
        raise
    current.refresh_from_db()
    return Answered(current, crisis)
