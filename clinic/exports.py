"""A client's own data, for their right of access (PIPEDA, Quebec Law 25).

The core writes its part; each stage app registers the sections it owns
from its AppConfig.ready(), so the core never imports them."""

from collections.abc import Callable

_sections: dict[str, Callable] = {}


def register(name: str, provider: Callable) -> None:
    """`provider(client)` returns plain JSON-able data for that section."""
    _sections[name] = provider


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
