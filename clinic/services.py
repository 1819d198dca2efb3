"""Actions that change the core domain. One transaction each."""

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from . import access_log, journey, outbox
from .models import (
    AccessLogEntry,
    AccountClosureRequest,
    Appointment,
    ClientProfile,
    Clinic,
    Course,
    JourneyEvent,
    OutboxMessage,
    Reservation,
    Room,
    StaffProfile,
    StaffRole,
    Stage,
    User,
)
from .net import client_ip
from .selectors import CALENDAR_VERSION_KEY

logger = logging.getLogger(__name__)


class JourneyError(Exception):
    """A stage change that the journey's rules refuse. `str()` is a sentence
    for the person who tried it."""


def _msg_not_allowed(course: Course, to_stage: str) -> str:
    return _("A course in the %(current)s stage cannot move to %(target)s.") % {
        "current": Stage(course.stage).label,
        "target": Stage(to_stage).label,
    }


MSG_STALE = gettext_noop(
    "This course changed while you were looking at it. Reload the page and try again."
)
MSG_NOT_PERMITTED = gettext_noop("You are not allowed to make this change to the course.")
MSG_ACTIVE_COURSE_EXISTS = gettext_noop("This client already has a course in progress.")
MSG_REASON_REQUIRED = gettext_noop("Please give a reason for this change.")


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
    *,
    user: User,
    clinic: Clinic,
    phone: str = "",
    date_of_birth=None,
    first_name: str | None = None,
    last_name: str | None = None,
    preferred_language: str | None = None,
) -> ClientProfile:
    """Give a newly signed-up person a client profile and an open course (and
    the name and language the sign-up form asked for), in one transaction."""
    with transaction.atomic():
        details = {
            name: value
            for name, value in (
                ("first_name", first_name),
                ("last_name", last_name),
                ("preferred_language", preferred_language),
            )
            if value is not None
        }
        if details:
            for name, value in details.items():
                setattr(user, name, value)
            user.save(update_fields=list(details))
        profile = ClientProfile(user=user, clinic=clinic, phone=phone, date_of_birth=date_of_birth)
        profile.full_clean()
        profile.save()
        course_open(client=profile, actor=user)
    return profile


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
    return access_log_record_many(
        actor=actor, items=[(client, obj)], action=action, request=request
    )[0]


def access_log_record_many(
    *,
    actor: User,
    items,
    action: str = AccessLogEntry.Action.VIEW,
    request: HttpRequest | None = None,
) -> list[AccessLogEntry]:
    """One entry per (client, object) shown at once, as a list page shows them.

    Each entry carries the hash of the one before it, so a changed or
    removed entry breaks the chain (`manage.py verify_access_log`). Writers
    take one lock in turn, or two of them would chain onto the same entry."""
    if not items:
        return []  # an empty page read nobody's data: no lock taken for it
    path = request.get_full_path()[:300] if request is not None else ""
    ip = client_ip(request) if request is not None else None
    entries = []
    with transaction.atomic():
        access_log.lock_chain()
        previous = (
            AccessLogEntry.objects.order_by("-pk").values_list("entry_hash", flat=True).first()
            or ""
        )
        now = timezone.now()
        for client, obj in items:
            entry = AccessLogEntry(
                actor=actor,
                action=action,
                object_type=obj._meta.label_lower,
                object_id=str(getattr(obj, "uuid", None) or obj.pk),
                client=client,
                path=path,
                ip_address=ip,
                at=now,
                previous_hash=previous,
            )
            entry.entry_hash = access_log.entry_hash(entry)
            previous = entry.entry_hash
            entries.append(entry)
        AccessLogEntry.objects.bulk_create(entries)
    return entries


def user_language_set(*, user: User, language: str) -> None:
    User.objects.filter(pk=user.pk).exclude(preferred_language=language).update(
        preferred_language=language
    )


# --- Outbox -------------------------------------------------------------------

MAX_ATTEMPTS = 8


def _check_handled(kind: str) -> None:
    if kind not in outbox.handlers():
        raise ValueError(f"No outbox handler is registered for {kind!r}.")


def outbox_enqueue(
    *, kind: str, key: str, payload: dict | None = None, due_at: datetime | None = None
) -> OutboxMessage:
    """Write a piece of later work in the caller's transaction. The same
    (kind, key) twice is one row: a double submit queues nothing twice."""
    _check_handled(kind)
    message, _created = OutboxMessage.objects.get_or_create(
        kind=kind, key=key, defaults={"payload": payload or {}, "due_at": due_at or timezone.now()}
    )
    return message


def outbox_enqueue_many(messages: list[dict]) -> None:
    """Several pieces of later work in one statement (each a dict of
    outbox_enqueue's arguments); a (kind, key) already queued stays as it is."""
    now = timezone.now()
    rows = []
    for message in messages:
        _check_handled(message["kind"])
        rows.append(
            OutboxMessage(
                kind=message["kind"],
                key=message["key"],
                payload=message.get("payload") or {},
                due_at=message.get("due_at") or now,
            )
        )
    OutboxMessage.objects.bulk_create(rows, ignore_conflicts=True)


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


# --- Calendar -------------------------------------------------------------------


class CalendarConflict(Exception):
    """The time asked for is taken for one of the people or the room."""


MSG_TIME_TAKEN = gettext_noop("This time is no longer free. Please choose another time.")
MSG_ALREADY_CHANGED = gettext_noop(
    "This appointment has changed in the meantime. Please reload the page."
)


def calendar_lock(*, staff_ids=(), room_id=None, client_id=None) -> None:
    """Lock the rows of the people and the room a booking will hold, always
    in the same order (staff by id, then room, then client), so concurrent
    bookings queue behind each other instead of deadlocking. Call it inside
    the booking's transaction, before checking who is free."""
    if staff_ids:
        list(
            StaffProfile.objects.select_for_update()
            .filter(user_id__in=staff_ids)
            .order_by("user_id")
            .values_list("pk")
        )
    if room_id is not None:
        list(Room.objects.select_for_update().filter(pk=room_id).values_list("pk"))
    if client_id is not None:
        list(ClientProfile.objects.select_for_update().filter(pk=client_id).values_list("pk"))


def calendar_busy(
    *, start, end, staff_ids=(), room_id=None, client_id=None, exclude: Appointment | None = None
) -> bool:
    """Whether any of these resources holds a live reservation overlapping [start, end)."""
    held = Q()
    if staff_ids:
        held |= Q(staff_id__in=list(staff_ids))
    if room_id is not None:
        held |= Q(room_id=room_id)
    if client_id is not None:
        held |= Q(client_id=client_id)
    if not held:
        return False
    overlapping = Reservation.objects.filter(held, is_live=True, start__lt=end, end__gt=start)
    if exclude is not None:
        overlapping = overlapping.exclude(appointment=exclude)
    return overlapping.exists()


def _reservations(
    appointment: Appointment, staff: list[User], buffer: timedelta
) -> list[Reservation]:
    # The buffer follows the appointment (time to write notes, reset the room):
    # back-to-back bookings then meet exactly at the buffer's end.
    start, end = appointment.start, appointment.end + buffer
    rows = [
        Reservation(appointment=appointment, staff=person, start=start, end=end) for person in staff
    ]
    if appointment.room_id:
        rows.append(
            Reservation(appointment=appointment, room_id=appointment.room_id, start=start, end=end)
        )
    if appointment.client_id:
        rows.append(
            Reservation(
                appointment=appointment,
                client_id=appointment.client_id,
                start=start,
                end=appointment.end,
            )
        )
    return rows


def calendar_changed() -> None:
    """Something on the calendar, or in who is available when, has changed:
    pages that keep a rendered list of free times must not use it again.

    The new version is written after the commit, so a page that read the
    calendar before the change can only have been kept under the old one."""
    transaction.on_commit(lambda: cache.set(CALENDAR_VERSION_KEY, uuid.uuid4().hex, timeout=None))


def appointment_book(
    *,
    clinic: Clinic,
    kind: str,
    start: datetime,
    end: datetime,
    staff: list[User],
    client: ClientProfile | None = None,
    room: Room | None = None,
    buffer: timedelta = timedelta(0),
    locked: bool = False,
) -> Appointment:
    """Put an appointment on the calendar, or raise CalendarConflict.

    Locks the resources (unless the caller already did, `locked=True`),
    checks that none is busy, and writes the appointment and one reservation
    per resource. On PostgreSQL an exclusion constraint backs the check; its
    IntegrityError becomes the same CalendarConflict.
    """
    staff_ids = sorted(person.pk for person in staff)
    try:
        with transaction.atomic():
            if not locked:
                calendar_lock(
                    staff_ids=staff_ids,
                    room_id=room.pk if room else None,
                    client_id=client.pk if client else None,
                )
            if calendar_busy(
                start=start,
                end=end + buffer,
                staff_ids=staff_ids,
                room_id=room.pk if room else None,
                client_id=client.pk if client else None,
            ):
                raise CalendarConflict(_(MSG_TIME_TAKEN))
            appointment = Appointment(
                clinic=clinic, kind=kind, start=start, end=end, client=client, room=room
            )
            # The clinic, client and room were handed in as rows and the uuid is
            # fresh: checking that they exist would cost a query each for nothing.
            appointment.full_clean(exclude=["clinic", "client", "room"], validate_unique=False)
            appointment.save()
            Reservation.objects.bulk_create(_reservations(appointment, staff, buffer))
            calendar_changed()
    except IntegrityError as exc:
        raise CalendarConflict(_(MSG_TIME_TAKEN)) from exc
    return appointment


def appointment_cancel(*, appointment: Appointment, version: int | None = None) -> Appointment:
    """Cancel a booked appointment and free everything it held. With
    `version`, only that version: a cancel from a stale link cannot cancel
    the time it was moved to since."""
    with transaction.atomic():
        booked = Appointment.objects.filter(pk=appointment.pk, status=Appointment.Status.BOOKED)
        if version is not None:
            booked = booked.filter(version=version)
        updated = booked.update(status=Appointment.Status.CANCELLED)
        if updated != 1:
            raise CalendarConflict(_(MSG_ALREADY_CHANGED))
        Reservation.objects.filter(appointment=appointment).update(is_live=False)
        calendar_changed()
    appointment.refresh_from_db()
    return appointment


def appointment_reschedule(
    *,
    appointment: Appointment,
    start: datetime,
    end: datetime,
    staff: list[User],
    buffer: timedelta = timedelta(0),
) -> Appointment:
    """Move a booked appointment to another time (and possibly other staff);
    its version goes up so reminders and links for the old time go stale."""
    staff_ids = sorted(person.pk for person in staff)
    try:
        with transaction.atomic():
            calendar_lock(
                staff_ids=staff_ids, room_id=appointment.room_id, client_id=appointment.client_id
            )
            current = Appointment.objects.select_for_update().get(pk=appointment.pk)
            if (
                current.status != Appointment.Status.BOOKED
                or current.version != appointment.version
            ):
                raise CalendarConflict(_(MSG_ALREADY_CHANGED))
            if calendar_busy(
                start=start,
                end=end + buffer,
                staff_ids=staff_ids,
                room_id=current.room_id,
                client_id=current.client_id,
                exclude=current,
            ):
                raise CalendarConflict(_(MSG_TIME_TAKEN))
            Reservation.objects.filter(appointment=current).delete()
            current.start, current.end, current.version = start, end, current.version + 1
            current.full_clean()
            current.save(update_fields=["start", "end", "version"])
            Reservation.objects.bulk_create(_reservations(current, staff, buffer))
            calendar_changed()
    except IntegrityError as exc:
        raise CalendarConflict(_(MSG_TIME_TAKEN)) from exc
    appointment.refresh_from_db()
    return appointment


def user_from_activation(*, uidb64: str, token: str) -> User | None:
    """The user an account-activation link is for, if the link is genuine and
    unused (Django's password-reset token: it dies once a password is set)."""
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_str
    from django.utils.http import urlsafe_base64_decode

    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError):
        return None
    user = User.objects.filter(pk=pk, is_active=True).first()
    if (
        user is None
        or user.has_usable_password()
        or not default_token_generator.check_token(user, token)
    ):
        return None
    return user


def account_activate(*, user: User, password: str) -> None:
    """Set the first password and mark the address verified."""
    from allauth.account.models import EmailAddress

    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        EmailAddress.objects.filter(user=user, email__iexact=user.email).update(verified=True)


# --- Client rights -------------------------------------------------------------------------


def client_sharing_set(*, client: ClientProfile, research: bool, marketing: bool) -> None:
    ClientProfile.objects.filter(pk=client.pk).update(
        share_for_research=research, share_for_marketing=marketing
    )


def account_closure_request(*, client: ClientProfile, reason: str = "") -> AccountClosureRequest:
    """Ask to close the account: one open request at a time (a second ask
    finds the first)."""
    request, _created = AccountClosureRequest.objects.get_or_create(
        client=client,
        status=AccountClosureRequest.Status.OPEN,
        defaults={"reason": reason.strip()[:5000]},
    )
    return request
