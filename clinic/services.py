"""Actions that change the core domain. One transaction each."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from . import journey, outbox
from .models import (
    AccessLogEntry,
    ClientProfile,
    Clinic,
    Course,
    JourneyEvent,
    OutboxMessage,
    StaffProfile,
    StaffRole,
    Stage,
    User,
)

logger = logging.getLogger(__name__)


class JourneyError(Exception):
    """A stage change that the journey's rules refuse. `str()` is a sentence
    for the person who tried it."""


def _msg_not_allowed(course: Course, to_stage: str) -> str:
    return _("A course in the %(current)s stage cannot move to %(target)s.") % {
        "current": Stage(course.stage).label,
        "target": Stage(to_stage).label,
    }


MSG_STALE = "This course changed while you were looking at it. Reload the page and try again."
MSG_NOT_PERMITTED = "You are not allowed to make this change to the course."
MSG_ACTIVE_COURSE_EXISTS = "This client already has a course in progress."
MSG_REASON_REQUIRED = "Please give a reason for this change."


def _actor_may(actor: User | None, course: Course, from_stage: str, to_stage: str) -> bool:
    """Who may move a course: clinicians of its clinic move it forward or
    decline it; any staff member of the clinic may pause, resume or close it;
    a client may withdraw from their own course. `None` is the system acting
    for a stage app whose own service already checked the person."""
    if actor is None:
        return True
    profile = getattr(actor, "staff_profile", None)
    if profile is not None:
        if not profile.clinics.filter(pk=course.clinic_id).exists():
            return False
        if to_stage in (Stage.WITHDRAWN, Stage.ON_HOLD) or from_stage == Stage.ON_HOLD:
            return profile.role != StaffRole.PRIVACY_OFFICER
        return profile.is_clinician
    client = getattr(actor, "client_profile", None)
    return client is not None and client.pk == course.client_id and to_stage == Stage.WITHDRAWN


def course_transition(
    *, course: Course, to_stage: str, actor: User | None, reason: str = ""
) -> Course:
    """Move a course to another stage, or raise JourneyError saying why not.

    Locks the course row, re-reads its stage, checks the transition table, the
    actor and every guard a stage app registered, then applies the change with
    a conditional update so two concurrent transitions cannot both apply.
    """
    to_stage = Stage(to_stage)
    reason = reason.strip()
    if to_stage in (Stage.DECLINED, Stage.WITHDRAWN, Stage.ON_HOLD) and not reason:
        raise JourneyError(_(MSG_REASON_REQUIRED))
    seen_stage = course.stage
    with transaction.atomic():
        current = Course.objects.select_for_update().select_related("client").get(pk=course.pk)
        if current.stage != seen_stage:
            raise JourneyError(_(MSG_STALE))
        if to_stage not in journey.allowed_targets(current):
            raise JourneyError(_msg_not_allowed(current, to_stage))
        if not _actor_may(actor, current, current.stage, to_stage):
            raise JourneyError(_(MSG_NOT_PERMITTED))
        unmet = journey.unmet_conditions(current, to_stage)
        if unmet:
            raise JourneyError(" ".join(str(u) for u in unmet))
        now = timezone.now()
        changes = {"stage": to_stage, "stage_changed_at": now}
        if to_stage == Stage.ON_HOLD:
            changes["stage_before_hold"] = current.stage
        elif current.stage == Stage.ON_HOLD:
            changes["stage_before_hold"] = ""
        updated = Course.objects.filter(pk=current.pk, stage=current.stage).update(**changes)
        if updated != 1:  # pragma: no cover - the row lock makes this unreachable on PostgreSQL
            raise JourneyError(_(MSG_STALE))
        JourneyEvent.objects.create(
            course=current,
            from_stage=current.stage,
            to_stage=to_stage,
            actor=actor,
            reason=reason,
            at=now,
        )
    course.refresh_from_db()
    course._loaded_stage = course.stage
    return course


def course_open(
    *, client: ClientProfile, actor: User | None, clinic: Clinic | None = None
) -> Course:
    """Start a client's course in the connect stage."""
    try:
        with transaction.atomic():
            course = Course(client=client, clinic=clinic or client.clinic, stage=Stage.CONNECT)
            course.full_clean(validate_constraints=False)
            course.save()
            JourneyEvent.objects.create(
                course=course, from_stage="", to_stage=Stage.CONNECT, actor=actor
            )
    except IntegrityError as exc:
        raise JourneyError(_(MSG_ACTIVE_COURSE_EXISTS)) from exc
    return course


def client_register(
    *, user: User, clinic: Clinic, phone: str = "", date_of_birth=None
) -> ClientProfile:
    """Give a newly signed-up person a client profile and an open course."""
    with transaction.atomic():
        profile = ClientProfile(user=user, clinic=clinic, phone=phone, date_of_birth=date_of_birth)
        profile.full_clean()
        profile.save()
        course_open(client=profile, actor=user)
    return profile


def _client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    # REMOTE_ADDR is the proxy's address behind gunicorn; the proxy sets X-Forwarded-For.
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    ip = forwarded.split(",")[0].strip() if forwarded else request.META.get("REMOTE_ADDR")
    return ip or None


def access_log_record(
    *,
    actor: User,
    client: ClientProfile,
    obj,
    action: str = AccessLogEntry.Action.VIEW,
    request: HttpRequest | None = None,
) -> AccessLogEntry:
    """Record that a staff member read (or exported, downloaded, changed) a
    client's health data. Every staff view of health data calls this."""
    return AccessLogEntry.objects.create(
        actor=actor,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(getattr(obj, "uuid", None) or obj.pk),
        client=client,
        path=(request.get_full_path()[:300] if request is not None else ""),
        ip_address=_client_ip(request),
    )


def user_language_set(*, user: User, language: str) -> None:
    User.objects.filter(pk=user.pk).exclude(preferred_language=language).update(
        preferred_language=language
    )


# --- Outbox -------------------------------------------------------------------

MAX_ATTEMPTS = 8


def outbox_enqueue(
    *, kind: str, key: str, payload: dict | None = None, due_at: datetime | None = None
) -> OutboxMessage:
    """Write a piece of later work in the caller's transaction. The same
    (kind, key) twice is one row: a double submit queues nothing twice."""
    if kind not in outbox.handlers():
        raise ValueError(f"No outbox handler is registered for {kind!r}.")
    message, _created = OutboxMessage.objects.get_or_create(
        kind=kind, key=key, defaults={"payload": payload or {}, "due_at": due_at or timezone.now()}
    )
    return message


@dataclass
class SweepResult:
    sent: int = 0
    skipped: int = 0
    retried: int = 0
    failed: int = 0


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


def outbox_sweep(*, limit: int = 1000, now: datetime | None = None) -> SweepResult:
    """Do the outbox work that is due, one row per transaction.

    Each row is locked (SKIP LOCKED) while its handler runs and marked done in
    the same transaction, so two sweeps running at once never take the same
    row, and a row whose worker died before the commit goes back to pending.
    """
    result = SweepResult()
    for _i in range(limit):
        moment = now or timezone.now()
        with transaction.atomic():
            message = (
                OutboxMessage.objects.select_for_update(skip_locked=True)
                .filter(status=OutboxMessage.Status.PENDING, due_at__lte=moment)
                .order_by("due_at", "pk")
                .first()
            )
            if message is None:
                break
            handler = outbox.handlers().get(message.kind)
            try:
                if handler is None:
                    raise LookupError(f"no handler for {message.kind}")
                with transaction.atomic():
                    done = handler(message)
            except Exception as exc:
                logger.exception("outbox %s %s failed", message.kind, message.key)
                message.attempts += 1
                message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                if message.attempts >= MAX_ATTEMPTS:
                    message.status = OutboxMessage.Status.FAILED
                    result.failed += 1
                else:
                    message.due_at = moment + _backoff(message.attempts)
                    result.retried += 1
            else:
                message.status = (
                    OutboxMessage.Status.SENT if done is not False else OutboxMessage.Status.SKIPPED
                )
                message.done_at = moment
                if done is False:
                    result.skipped += 1
                else:
                    result.sent += 1
            message.save(update_fields=["status", "attempts", "last_error", "due_at", "done_at"])
    return result


def staff_profile_create(
    *,
    user: User,
    role: str,
    clinics: list[Clinic],
    profession: str = "",
    registration_number: str = "",
    **extra,
) -> StaffProfile:
    """Make a user a staff member: a profile with a role and the clinics they
    work at, and admin access (behind the MFA gate)."""
    with transaction.atomic():
        profile = StaffProfile(
            user=user,
            role=role,
            profession=profession,
            registration_number=registration_number,
            **extra,
        )
        profile.full_clean(exclude=["clinics"])
        profile.save()
        profile.clinics.set(clinics)
        User.objects.filter(pk=user.pk).update(is_staff=True)
        user.is_staff = True
    return profile
