"""Receivers that hand allauth's events to services (no rule lives here)."""

from allauth.account.signals import email_confirmed
from allauth.mfa.signals import authenticator_added
from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver

from .accounts import other_sessions_end
from .emails import WELCOME
from .outbox import outbox_enqueue

MFA_ACTIVATED_SESSION_KEY = "clinic_mfa_activated"


@receiver(email_confirmed)
def queue_welcome_email(sender, request, email_address, **kwargs):
    user = email_address.user
    outbox_enqueue(kind=WELCOME, key=f"user:{user.pk}", payload={"user_id": user.pk})


@receiver(authenticator_added)
def remember_mfa_activation(sender, request, user, authenticator, **kwargs):
    # Setting up TOTP proves the code works: the staff gate counts it as used.
    if request is not None:
        request.session[MFA_ACTIVATED_SESSION_KEY] = True


@receiver(user_logged_out)
def end_other_sessions(sender, request, user, **kwargs):
    """Signing out anywhere signs out everywhere: a session left open on a
    shared or lost device must not outlive the person's decision to leave.
    (Changing the password already ends the other sessions: Django checks
    each session against the password's hash.)"""
    if user is None:
        return
    current = request.session.session_key if request is not None else None
    other_sessions_end(user=user, keep_session_key=current)
