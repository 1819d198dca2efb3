"""Reads for individual integration sessions: the clinic's window, the
therapist a dosing session held, the free times offered after it (the
therapist's and the client's, in the clinic's zone), and the pages' lists.
Free times cost one query whatever the calendar holds; the pages' lists a
fixed number whatever the number of sessions."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.db.models import Prefetch, Q
from django.utils import timezone

from clinic.models import Appointment, ClientProfile, Course, Reservation, StaffRole, Stage, User
from sessions.models import DosingSession

from .models import IndividualSession, IntegrationSessionSettings

# A client in these stages is offered integration sessions; staff book for them.
STAGES = (Stage.DOSING, Stage.INTEGRATE)


def session_settings(clinic) -> IntegrationSessionSettings:
    found = IntegrationSessionSettings.objects.filter(clinic=clinic).first()
    return found or IntegrationSessionSettings(clinic=clinic)


def session_therapist(dosing_session: DosingSession) -> User | None:
    """The therapist the dosing session held: the client's therapist for
    the integration that follows it."""
    reservation = (
        Reservation.objects.filter(
            appointment_id=dosing_session.appointment_id,
            staff__staff_profile__role=StaffRole.THERAPIST,
        )
        .select_related("staff")
        .order_by("pk")
        .first()
    )
    return reservation.staff if reservation else None


def window_days(dosing_session: DosingSession, settings: IntegrationSessionSettings) -> list[date]:
    """The clinic's local days offered after this dosing session."""
    zone = dosing_session.appointment.clinic.zone
    held_on = timezone.localtime(dosing_session.appointment.start, zone).date()
    return [
        held_on + timedelta(days=n)
        for n in range(settings.window_from_days, settings.window_to_days + 1)
    ]


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime

    @property
    def key(self) -> str:
        """The slot as it travels in URLs: its UTC start, to the minute."""
        return self.start.astimezone(UTC).strftime("%Y%m%dT%H%MZ")


def parse_slot_key(key: str | None) -> datetime | None:
    try:
        moment = datetime.strptime(key or "", "%Y%m%dT%H%MZ").replace(tzinfo=UTC)
    except ValueError:
        return None
    return moment if 2000 <= moment.year <= 2100 else None


def _candidates(dosing_session, settings, now) -> list[Slot]:
    """Each local day of the window from `day_start`, one session after
    another until `day_end`, laid on the clinic's wall clock (a
    daylight-saving change keeps 9:00 at 9:00; a time in the skipped hour
    does not exist), the ones still ahead."""
    zone = dosing_session.appointment.clinic.zone
    length = timedelta(minutes=settings.session_minutes)
    candidates: list[Slot] = []
    for day in window_days(dosing_session, settings):
        local = datetime.combine(day, settings.day_start, tzinfo=zone)
        last = datetime.combine(day, settings.day_end, tzinfo=zone)
        while local + length <= last:
            moment = local.astimezone(UTC)
            exists = moment.astimezone(zone).replace(tzinfo=None) == local.replace(tzinfo=None)
            if exists and moment > now:
                candidates.append(Slot(moment, moment + length))
            local += length
    return candidates


def _busy(*, staff_ids, client_ids, start, end, exclude=None) -> list[tuple]:
    """(staff_id, client_id, start, end) of the live reservations of these
    people overlapping [start, end): one query."""
    busy = Reservation.objects.filter(
        Q(staff_id__in=staff_ids) | Q(client_id__in=client_ids),
        is_live=True,
        start__lt=end,
        end__gt=start,
    )
    if exclude is not None:
        busy = busy.exclude(appointment=exclude)
    return list(busy.values_list("staff_id", "client_id", "start", "end"))


def _free(candidates, busy, therapist_id, client_id) -> list[Slot]:
    held = [
        (b, e) for staff_id, client, b, e in busy if staff_id == therapist_id or client == client_id
    ]
    return [s for s in candidates if not any(b < s.end and e > s.start for b, e in held)]


def free_slots(
    *,
    dosing_session: DosingSession,
    therapist: User,
    settings: IntegrationSessionSettings,
    now: datetime,
    exclude: Appointment | None = None,
) -> list[Slot]:
    """The times in the window when the therapist and the client are both free."""
    candidates = _candidates(dosing_session, settings, now)
    if not candidates:
        return []
    client_id = dosing_session.appointment.client_id
    busy = _busy(
        staff_ids=[therapist.pk],
        client_ids=[client_id],
        start=candidates[0].start,
        end=candidates[-1].end,
        exclude=exclude,
    )
    return _free(candidates, busy, therapist.pk, client_id)


def live_session(dosing_session: DosingSession) -> IndividualSession | None:
    """The integration session booked after this dosing session, if any."""
    return (
        IndividualSession.objects.filter(
            dosing_session=dosing_session, appointment__status=Appointment.Status.BOOKED
        )
        .select_related("appointment", "therapist")
        .first()
    )


@dataclass
class Offer:
    """A held dosing session and what follows it: the integration session
    booked, or the times free to book one."""

    dosing_session: DosingSession
    therapist: User | None
    booked: IndividualSession | None = None
    slots: list[Slot] = field(default_factory=list)


def _held_sessions(courses):
    return (
        DosingSession.objects.filter(
            series__course__in=courses, appointment__status=Appointment.Status.HELD
        )
        .select_related("appointment__clinic", "series__course")
        .prefetch_related(
            Prefetch(
                "integration_sessions",
                queryset=IndividualSession.objects.filter(
                    appointment__status__in=[Appointment.Status.BOOKED, Appointment.Status.HELD]
                ).select_related("appointment", "therapist"),
                to_attr="live_integration",
            ),
            Prefetch(
                "appointment__reservations",
                queryset=Reservation.objects.filter(
                    staff__staff_profile__role=StaffRole.THERAPIST
                ).select_related("staff"),
                to_attr="therapists",
            ),
        )
        .order_by("appointment__start", "pk")
    )


def offers(*, courses, now: datetime | None = None) -> list[Offer]:
    """Every dosing session of these courses that took place, with its
    integration session or, while the course is in dosing or integrate and
    the window is still ahead, its free times. A fixed number of queries
    whatever the number of sessions: the calendar is read once for all."""
    now = now or timezone.now()
    result: list[Offer] = []
    settings_by_clinic: dict[int, IntegrationSessionSettings] = {}
    wanted: list[tuple[Offer, list[Slot]]] = []
    for dosing in _held_sessions(courses):
        therapists = dosing.appointment.therapists
        therapist = therapists[0].staff if therapists else None
        booked = next(iter(dosing.live_integration), None)
        offer = Offer(dosing_session=dosing, therapist=therapist, booked=booked)
        result.append(offer)
        if booked is None and therapist is not None and dosing.series.course.stage in STAGES:
            clinic = dosing.appointment.clinic
            if clinic.pk not in settings_by_clinic:
                settings_by_clinic[clinic.pk] = session_settings(clinic)
            candidates = _candidates(dosing, settings_by_clinic[clinic.pk], now)
            if candidates:
                wanted.append((offer, candidates))
    if wanted:
        busy = _busy(
            staff_ids={offer.therapist.pk for offer, _c in wanted if offer.therapist},
            client_ids={offer.dosing_session.appointment.client_id for offer, _c in wanted},
            start=min(c[0].start for _o, c in wanted),
            end=max(c[-1].end for _o, c in wanted),
        )
        for offer, candidates in wanted:
            therapist_id = offer.therapist.pk if offer.therapist else None
            offer.slots = _free(
                candidates, busy, therapist_id, offer.dosing_session.appointment.client_id
            )
    return result


def client_offers(*, client: ClientProfile, now: datetime | None = None) -> list[Offer]:
    return offers(courses=Course.objects.filter(client=client), now=now)


def client_dosing_session(*, client: ClientProfile, session_uuid) -> DosingSession | None:
    """One of the client's own dosing sessions (another's is None: a 404)."""
    return (
        DosingSession.objects.filter(
            uuid=session_uuid,
            series__course__client=client,
        )
        .select_related("appointment__clinic", "appointment__client__user", "series__course")
        .first()
    )


def staff_dosing_session(*, clinic_ids, session_uuid) -> DosingSession | None:
    """A dosing session of one of these clinics."""
    return (
        DosingSession.objects.filter(
            uuid=session_uuid,
            appointment__clinic_id__in=list(clinic_ids),
        )
        .select_related("appointment__clinic", "appointment__client__user", "series__course")
        .first()
    )
