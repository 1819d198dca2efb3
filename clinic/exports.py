"""A client's own data, for their right of access (PIPEDA, Quebec Law 25).

The core writes its part; each stage app registers the sections it owns
from its AppConfig.ready(), so the core never imports them."""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from .models import Language, Stage

ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}(T|$)")
_sections: dict[str, Callable] = {}
# The title a person reads for each section (the JSON keeps the plain keys).
LABELS = {"account": _("Your account"), "profile": _("Your profile"), "courses": _("Your journey")}
# What each key and coded value reads as on the readable page; stage apps add theirs.
FIELD_LABELS = {
    "email": _("E-mail"),
    "first_name": _("First name"),
    "last_name": _("Last name"),
    "preferred_language": _("Preferred language"),
    "joined": _("Joined"),
    "clinic": _("Clinic"),
    "date_of_birth": _("Date of birth"),
    "phone": _("Phone"),
    "emergency_contact_name": _("Emergency contact"),
    "emergency_contact_phone": _("Emergency contact's phone"),
    "share_for_research": _("Contact me about research"),
    "share_for_marketing": _("Send me news from the clinic"),
    "opened_at": _("Opened"),
    "stage": _("Stage"),
    "events": _("Changes of stage"),
    "at": _("When"),
    "from": _("From"),
    "to": _("To"),
    "reason": _("Reason"),
}
VALUE_LABELS = {
    "stage": dict(Stage.choices),
    "from": dict(Stage.choices),
    "to": dict(Stage.choices),
    "preferred_language": dict(Language.choices),
}


_section_labels: dict[str, tuple[dict, dict, dict]] = {}


def register(
    name: str, provider: Callable, label, *, fields=None, values=None, readers=None
) -> None:
    """`provider(client)` returns plain JSON-able data for that section;
    `fields` and `values` say how its keys and coded values read there, and
    `readers` how a key's whole value reads when a label per key is not
    enough (a screening's answers: each question and its answer):
    `readers[key](value, record)` returns the entries below the key, or None
    to read the value as any other."""
    _sections[name] = provider
    LABELS[name] = label
    _section_labels[name] = (fields or {}, values or {}, readers or {})


@dataclass
class Entry:
    """One line of the readable page: a label and a text, or the entries
    below it (a record's fields, a list's records)."""

    label: str = ""
    text: str = ""
    children: list["Entry"] = field(default_factory=list)


@dataclass
class _Labels:
    fields: dict
    values: dict
    zone: object
    readers: dict = field(default_factory=dict)


def day_text(value: str) -> str | None:
    """An ISO 8601 day ("1985-04-23") as a person reads it, or None."""
    if len(value) != 10 or not ISO_DAY.match(value):
        return None
    try:
        return date_format(date.fromisoformat(value), "DATE_FORMAT")
    except ValueError:
        return None


def _text(key: str, value, labels: _Labels) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    if isinstance(value, str):
        if value in labels.values.get(key, {}):
            return str(labels.values[key][value])
        if ISO_DAY.match(value):  # the exports write moments and days in ISO 8601
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                return value
            if "T" in value and moment.tzinfo is not None:
                return date_format(timezone.localtime(moment, labels.zone), "SHORT_DATETIME_FORMAT")
            if day := day_text(value):
                return day
        return value
    return str(value)


def _entries(key: str, value, labels: _Labels, record: dict | None = None) -> Entry:
    label = str(labels.fields.get(key, key))
    reader = labels.readers.get(key)
    if reader is not None and record is not None:
        children = reader(value, record)
        if children is not None:
            return Entry(label, children=children)
    if isinstance(value, dict):
        return Entry(label, children=[_entries(k, v, labels, value) for k, v in value.items()])
    if isinstance(value, list) and any(isinstance(item, dict | list) for item in value):
        return Entry(label, children=[_entries("", item, labels) for item in value])
    if isinstance(value, list):
        return Entry(label, ", ".join(_text(key, item, labels) for item in value) or "—")
    return Entry(label, _text(key, value, labels))


def readable(data: dict, *, zone) -> list[Entry]:
    """Each section of an export as a person reads it: labelled in their
    language, codes spelled out, moments in the clinic's time."""
    sections = []
    for name, value in data.items():
        fields, values, readers = _section_labels.get(name, ({}, {}, {}))
        labels = _Labels({**FIELD_LABELS, **fields}, {**VALUE_LABELS, **values}, zone, readers)
        entry = _entries(name, value, labels)
        entry.label = str(LABELS.get(name, name))
        sections.append(entry)
    return sections


def client_export(client) -> dict:
    user = client.user
    data = {
        "account": {
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "preferred_language": user.preferred_language,
            "joined": user.date_joined.isoformat(),
        },
        "profile": {
            "clinic": client.clinic.name,
            "date_of_birth": client.date_of_birth.isoformat() if client.date_of_birth else None,
            "phone": client.phone,
            "emergency_contact_name": client.emergency_contact_name,
            "emergency_contact_phone": client.emergency_contact_phone,
            "share_for_research": client.share_for_research,
            "share_for_marketing": client.share_for_marketing,
        },
        "courses": [
            {
                "opened_at": course.opened_at.isoformat(),
                "clinic": course.clinic.name,
                "stage": course.stage,
                "events": [
                    {
                        "at": e.at.isoformat(),
                        "from": e.from_stage,
                        "to": e.to_stage,
                        "reason": e.reason,
                    }
                    for e in course.events.all()
                ],
            }
            for course in client.courses.select_related("clinic")
            .prefetch_related("events")
            .order_by("opened_at")
        ],
    }
    for name, provider in sorted(_sections.items()):
        data[name] = provider(client)
    return data
