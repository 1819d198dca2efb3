from types import SimpleNamespace
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import ratelimit
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import translation

from .context_processors import site_name
from .net import client_ip, rate_limit_address

# The per-account ceiling on failed sign-ins (ACCOUNT_RATE_LIMITS), beside
# allauth's own "login_failed" which is keyed by account and address here.
LOGIN_FAILED_ACCOUNT = "login_failed_account"


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

    def login(self, request, user):
        # The next page is shown in the person's own language
        # (UserLanguageMiddleware); the messages added from here on ("signed
        # in as ...") are written now, so in that language too, whichever
        # language the sign-in page was in.
        super().login(request, user)
        language = getattr(user, "preferred_language", "")
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language

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

    def get_client_ip(self, request):
        # The same address as the access log and django-ratelimit, read through
        # TRUSTED_PROXY_COUNT proxies: allauth's own reading ignores that
        # setting, so behind the TLS proxy every sign-in would share one address.
        ip = client_ip(request)
        if not ip:
            raise PermissionDenied("Unable to determine client IP address")
        return ip

    # Failed sign-ins: allauth keys its "login_failed" limit by the e-mail
    # alone, so five wrong passwords from anyone lock the owner out. Here the
    # key is the e-mail *and* the address, beside allauth's per-address rates;
    # a stranger exhausts only their own (account, address) budget. The
    # per-account limit stays as a much higher ceiling (LOGIN_FAILED_ACCOUNT)
    # against a guess spread over many addresses. Overriding the key is what
    # allauth's maintainer points to (django-allauth issue 3584).

    def _get_login_attempts_cache_key(self, request, **credentials):
        return f"{self._account_attempts_key(request, **credentials)}@{rate_limit_address(request)}"

    def _account_attempts_key(self, request, **credentials):
        return super()._get_login_attempts_cache_key(request, **credentials)

    def pre_authenticate(self, request, **credentials):
        # The ceiling is checked first and counted only once a password turned
        # out wrong (authentication_failed): an attempt refused here or by the
        # per-address limits counts against nothing, so a stranger who has been
        # stopped cannot keep pushing the owner's ceiling up.
        if not ratelimit.consume(
            request,
            action=LOGIN_FAILED_ACCOUNT,
            key=self._account_attempts_key(request, **credentials),
            dry_run=True,
        ):
            raise self.validation_error("too_many_login_attempts")
        super().pre_authenticate(request, **credentials)

    def authentication_failed(self, request, **credentials):
        super().authentication_failed(request, **credentials)
        ratelimit.consume(
            request,
            action=LOGIN_FAILED_ACCOUNT,
            key=self._account_attempts_key(request, **credentials),
        )

    def _delete_login_attempts_cached_email(self, request, **credentials):
        # A completed password reset (itself rate-limited, and proof of the
        # inbox) lifts the ceiling too: it is how an owner locked out by a
        # spread-out attack gets back in.
        super()._delete_login_attempts_cached_email(request, **credentials)
        ratelimit.clear(
            request,
            action=LOGIN_FAILED_ACCOUNT,
            key=self._account_attempts_key(request, **credentials),
        )
