"""Receivers that hand allauth's events to services (no rule lives here)."""

from allauth.account.signals import email_confirmed
from allauth.mfa.signals import authenticator_added
from django.dispatch import receiver
from django.urls import reverse

from . import services
from .emails import WELCOME

MFA_ACTIVATED_SESSION_KEY = "clinic_mfa_activated"


@receiver(email_confirmed)
def queue_welcome_email(sender, request, email_address, **kwargs):
    user = email_address.user
    portal_url = request.build_absolute_uri(reverse("portal:home")) if request is not None else ""
    services.outbox_enqueue(
        kind=WELCOME, key=f"user:{user.pk}", payload={"user_id": user.pk, "portal_url": portal_url}
    )


@receiver(authenticator_added)
def remember_mfa_activation(sender, request, user, authenticator, **kwargs):
    # Setting up TOTP proves the code works: the staff gate counts it as used.
    if request is not None:
        request.session[MFA_ACTIVATED_SESSION_KEY] = True
