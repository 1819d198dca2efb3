"""A group's meetings from an RFC 5545 recurrence rule (python-dateutil's
rrule, which celery already brings in and which is kept up to date; the
django-recurrence package adds a model field and widgets we do not need).

The rule is expanded in the clinic's wall-clock time, then each meeting is
placed in the clinic's zone and turned into UTC: "every Tuesday 18:00" stays
18:00 on both sides of a daylight-saving change, however many hours apart
the UTC instants are."""

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr  # type: ignore[import-untyped]
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

MAX_MEETINGS = 100

MSG_NEVER_ENDS = gettext_noop("This schedule never ends: give a number of meetings or a last date.")
MSG_TOO_MANY = gettext_noop("This schedule makes more than %(max)s meetings: shorten it.")
MSG_BAD_RULE = gettext_noop("This schedule could not be read.")
MSG_NO_MEETING = gettext_noop("This schedule makes no meeting.")
MSG_ENDS_BEFORE_START = gettext_noop("A meeting must end after it starts.")


class RecurrenceError(ValueError):
    """The schedule cannot make a group's meetings; `str()` is for the person."""


@dataclass(frozen=True)
class Occurrence:
    start: datetime  # UTC
    end: datetime  # UTC


def weekly_rule(*, interval: int = 1, count: int | None = None, until: date | None = None) -> str:
    """The RFC 5545 rule the group form builds: every `interval` weeks on the
    first meeting's weekday, `count` times or until `until` (a local date)."""
    parts = ["FREQ=WEEKLY", f"INTERVAL={interval}"]
    if count is not None:
        parts.append(f"COUNT={count}")
    if until is not None:
        parts.append(f"UNTIL={until:%Y%m%d}T235959")
    return ";".join(parts)


def local_moment(day: date, at: time, zone: ZoneInfo) -> datetime:
    """A wall-clock time on a local day as an aware UTC instant. A time that
    does not exist that day (skipped by the spring change) moves forward by
    the gap, as a wall clock would show it."""
    moment = datetime.combine(day, at, tzinfo=zone)
    return moment.astimezone(ZoneInfo("UTC"))


def occurrences(
    *, rule: str, first_day: date, starts_at: time, ends_at: time, zone: ZoneInfo
) -> list[Occurrence]:
    """Every meeting the rule makes, in UTC; raises RecurrenceError for a
    rule that never ends, makes no meeting or more than MAX_MEETINGS."""
    if ends_at <= starts_at:
        raise RecurrenceError(_(MSG_ENDS_BEFORE_START))
    upper = rule.upper()
    if "COUNT=" not in upper and "UNTIL=" not in upper:
        raise RecurrenceError(_(MSG_NEVER_ENDS))
    try:
        parsed = rrulestr(rule, dtstart=datetime.combine(first_day, starts_at))
    except (ValueError, TypeError) as exc:
        raise RecurrenceError(_(MSG_BAD_RULE)) from exc
    days = []
    for moment in parsed:  # naive local wall-clock times
        days.append(moment.date())
        if len(days) > MAX_MEETINGS:
            raise RecurrenceError(_(MSG_TOO_MANY) % {"max": MAX_MEETINGS})
    if not days:
        raise RecurrenceError(_(MSG_NO_MEETING))
    return [
        Occurrence(local_moment(day, starts_at, zone), local_moment(day, ends_at, zone))
        for day in days
    ]


def local_span(occurrence: Occurrence, zone: ZoneInfo) -> tuple[datetime, datetime]:
    return timezone.localtime(occurrence.start, zone), timezone.localtime(occurrence.end, zone)
