from types import SimpleNamespace
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.urls import reverse

from .context_processors import site_name


def on_site(url: str) -> str:
    """The same link on the configured public address (SITE_URL).

    allauth builds its links (confirm your address, reset your password)
    from the request's Host header; behind a proxy that forwards any Host, a
    stranger asking for a reset of someone else's password could have the
    e-mail point at a host of theirs and catch the key."""
    parts = urlsplit(url)
    if not parts.scheme:
        return url
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return settings.SITE_URL + path


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request):
        return reverse("home_after_login")

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        context = {
            key: on_site(value) if key.endswith("_url") and isinstance(value, str) else value
            for key, value in context.items()
        }
        # allauth's templates greet from `current_site`, which without the
        # sites framework is the request's Host header too.
        context["current_site"] = SimpleNamespace(
            name=site_name(), domain=urlsplit(settings.SITE_URL).netloc
        )
        super().send_mail(template_prefix, email, context)
