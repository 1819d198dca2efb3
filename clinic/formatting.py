from datetime import datetime

from django.utils import timezone
from django.utils.formats import date_format, time_format


def local_when(moment: datetime, clinic) -> str:
    """A moment as a person reads it in the clinic's own time, in the active
    language: "Thursday June 4, 2026, 10:00 a.m." / "jeudi 4 juin 2026, 10 h 00"."""
    local = timezone.localtime(moment, clinic.zone)
    return f"{date_format(local, 'l')} {date_format(local, 'DATE_FORMAT')}, {time_format(local, 'TIME_FORMAT')}"
