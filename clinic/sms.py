"""Text messages through a pluggable backend (SMS_BACKEND), like Django's
e-mail backends. The console backend prints; the memory backend keeps
messages for tests; a provider's backend implements `send(to, body)`."""

import logging

import phonenumbers
from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)
outbox: list[tuple[str, str]] = []  # the memory backend's sent messages


def normalise_phone(raw: str, region: str = "CA") -> str | None:
    """The number in E.164 form if it is a valid phone number, else None."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class ConsoleBackend:
    def send(self, to: str, body: str) -> None:
        logger.info("SMS to %s: %s", to, body)
        print(f"SMS to {to}: {body}")  # noqa: T201


class MemoryBackend:
    def send(self, to: str, body: str) -> None:
        outbox.append((to, body))


def send_sms(to: str, body: str) -> None:
    import_string(settings.SMS_BACKEND)().send(to, body)
