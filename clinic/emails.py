"""E-mail that goes out through the outbox, rendered in the recipient's
language. Every e-mail the app sends goes through `send_templated`."""

from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils import translation

from . import outbox
from .context_processors import site_name
from .models import OutboxMessage, User

WELCOME = "accounts.welcome"

# (file name, content, MIME type), as EmailMessage.attach takes them.
Attachment = tuple[str, bytes | str, str]


def send_templated(
    *,
    to: str,
    language: str,
    template: str,
    context: dict | Callable[[], dict],
    attachments: Iterable[Attachment] | Callable[[], Iterable[Attachment]] = (),
) -> None:
    """Send `templates/<template>_subject.txt` and `_body.txt`, with
    `_body.html` as the HTML alternative when the template has one.

    Everything is rendered in `language`. A context or attachments that
    depend on the language (a date in words, an invitation's title) can be
    given as a function: it is called with the language active."""
    with translation.override(language):
        values = context() if callable(context) else context
        values = {**values, "site_name": site_name()}
        files = list(attachments() if callable(attachments) else attachments)
        subject = render_to_string(f"{template}_subject.txt", values).strip()
        text = render_to_string(f"{template}_body.txt", values)
        try:
            html = render_to_string(f"{template}_body.html", values)
        except TemplateDoesNotExist:
            html = None
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [to])
    if html is not None:
        message.attach_alternative(html, "text/html")
    for name, content, mimetype in files:
        message.attach(name, content, mimetype)
    message.send()


def absolute(path: str) -> str:
    """A link for an e-mail: always the configured public address
    (SITE_URL), never the Host header of whichever request caused it."""
    return settings.SITE_URL + path


@outbox.handler(WELCOME)
def send_welcome(message: OutboxMessage) -> bool:
    from django.urls import reverse

    user = User.objects.filter(pk=message.payload["user_id"], is_active=True).first()
    if user is None:
        return False
    send_templated(
        to=user.email,
        language=user.preferred_language,
        template="email/welcome",
        context={"user": user, "portal_url": absolute(reverse("portal:home"))},
    )
    return True
