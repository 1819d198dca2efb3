"""E-mail that goes out through the outbox, rendered in the recipient's language."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

from . import outbox
from .context_processors import site_name
from .models import OutboxMessage, User

WELCOME = "accounts.welcome"


def send_templated(*, to: str, language: str, template: str, context: dict) -> None:
    """Send `templates/<template>_subject.txt`, `_body.txt` and `_body.html`."""
    with translation.override(language):
        context = {**context, "site_name": site_name()}
        subject = render_to_string(f"{template}_subject.txt", context).strip()
        text = render_to_string(f"{template}_body.txt", context)
        html = render_to_string(f"{template}_body.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [to])
    message.attach_alternative(html, "text/html")
    message.send()


@outbox.handler(WELCOME)
def send_welcome(message: OutboxMessage) -> bool:
    user = User.objects.filter(pk=message.payload["user_id"], is_active=True).first()
    if user is None:
        return False
    send_templated(
        to=user.email,
        language=user.preferred_language,
        template="email/welcome",
        context={"user": user, "portal_url": message.payload.get("portal_url", "")},
    )
    return True
