from datetime import date, datetime
from functools import cache

import phonenumbers
from django.utils import timezone
from django.utils.formats import date_format, time_format
from django.utils.translation import ngettext


def local_when(moment: datetime, clinic) -> str:
    """A moment as a person reads it in the clinic's own time, in the active
    language: "Thursday June 4, 2026, 10:00 a.m." / "jeudi 4 juin 2026, 10 h 00"."""
    local = timezone.localtime(moment, clinic.zone)
    return f"{date_format(local, 'l')} {date_format(local, 'DATE_FORMAT')}, {time_format(local, 'TIME_FORMAT')}"


@cache
def choice_labels(model, field_name: str) -> dict:
    """A field's choices as {value: label}, built once (the labels stay lazy:
    translated when shown). get_FOO_display() builds this dict again at each
    call, hashing (so translating) every label: a list page calling it per
    row spent a tenth of its time there (issue 15)."""
    return dict(model._meta.get_field(field_name).flatchoices)


def choice_label(model, field_name: str, value) -> str:
    """What get_FOO_display() gives for `value`."""
    return str(choice_labels(model, field_name).get(value, value))


def phone_display(raw: str, region: str = "CA") -> str:
    """A phone number as people write it: "(514) 555-0123" for a Canadian
    number, "+33 1 23 45 67 89" for another country's; as typed when it does
    not parse."""
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return raw
    if not phonenumbers.is_possible_number(number):
        return raw
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if phonenumbers.region_code_for_number(number) == region
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)


def age_on(born: date, day: date) -> int:
    """Whole years. Someone born on 29 February turns a year older on
    1 March in a common year (the later, safer reading for a minimum age)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def birth_date_display(born: date | None, today: date) -> str:
    """ "April 23, 1985 (41 years old)" / "23 avril 1985 (41 ans)"."""
    if born is None:
        return "—"
    years = age_on(born, today)
    age = ngettext("%(age)d year old", "%(age)d years old", years) % {"age": years}
    return f"{date_format(born, 'DATE_FORMAT')} ({age})"
