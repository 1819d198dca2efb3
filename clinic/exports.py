"""A client's own data, for their right of access (PIPEDA, Quebec Law 25).

The core writes its part; each stage app registers the sections it owns
from its AppConfig.ready(), so the core never imports them."""

from collections.abc import Callable

from django.utils.translation import gettext_lazy as _

_sections: dict[str, Callable] = {}
# The title a person reads for each section (the JSON keeps the plain keys).
LABELS = {"account": _("Your account"), "profile": _("Your profile"), "courses": _("Your journey")}


def register(name: str, provider: Callable, label) -> None:
    """`provider(client)` returns plain JSON-able data for that section."""
    _sections[name] = provider
    LABELS[name] = label


def labelled(data: dict) -> list[tuple[str, object]]:
    """(title, value) for each section of an export, for the readable page."""
    return [(str(LABELS.get(name, name)), value) for name, value in data.items()]


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
