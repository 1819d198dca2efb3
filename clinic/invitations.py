"""Two-factor invitations: the only way a staff member's authenticator is set
up or replaced.

A staff password alone must open nothing: whoever learns it could otherwise
sign in and enrol their own authenticator. So an administrator sends an
invitation to the staff member's own address (a single-use link that
expires), and only the person who holds that link AND the password can enrol.

Who may send one (the rule `may_invite` applies):
- a superuser, to any staff member but themselves;
- a privacy officer, to a staff member of one of their clinics who is not a
  superuser (a superuser's account is a superuser's business);
- the server's command line (`manage.py staff_invite`, the demo seed), with
  no actor: whoever runs it already holds the database. This is how the first
  administrator gets their authenticator.

Each invitation row is the audit record (who, for whom, when, for what, when
used). A reset removes the old authenticators only when it is used, never
when it is sent: a reset sent by mistake, or by someone who should not have,
locks nobody out. Using an invitation ends the person's other sessions.
"""

import hashlib
import logging
import secrets
from datetime import timedelta

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from . import outbox
from .accounts import other_sessions_end
from .emails import absolute, send_templated
from .models import OutboxMessage, StaffInvitation, User
from .permissions import is_privacy_officer, is_staff_member
from .roles import staff_groups_sync

logger = logging.getLogger(__name__)

INVITATION_EMAIL = "accounts.staff_invitation"

MSG_NOT_STAFF = gettext_noop("Only staff accounts are invited to set up two-factor authentication.")
MSG_INACTIVE = gettext_noop("This account is deactivated: it cannot be invited.")
MSG_NOT_ALLOWED = gettext_noop(
    "Only an administrator or a privacy officer of one of this person’s clinics "
    "can send them an invitation."
)
MSG_NOT_YOURSELF = gettext_noop(
    "You cannot send an invitation to yourself: ask another administrator."
)
MSG_ALREADY_ENROLLED = gettext_noop(
    "This person already has an authenticator: send an authenticator reset instead."
)
MSG_NOTHING_TO_RESET = gettext_noop(
    "This person has no authenticator yet: send a first invitation instead."
)
MSG_UNKNOWN = gettext_noop(
    "This invitation link is not valid. Check that you opened the whole link from the e-mail."
)
MSG_EXPIRED = gettext_noop(
    "This invitation has expired. Ask the privacy officer to send you a new one."
)
MSG_USED = gettext_noop(
    "This invitation has already been used: it works only once. If you did not use it, "
    "tell the privacy officer at once."
)
MSG_REPLACED = gettext_noop(
    "A newer invitation replaced this one. Use the link in the most recent e-mail."
)
MSG_OTHER_USER = gettext_noop(
    "This invitation is for another account. Sign out, then open the link again."
)


class InvitationError(Exception):
    """An invitation that cannot be sent or used; `str()` is a sentence for
    the person."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_link(token: str) -> str:
    return absolute(reverse("staff_invitation", args=[token]))


def has_authenticator(user: User) -> bool:
    return (
        Authenticator.objects.filter(user=user)
        .exclude(type=Authenticator.Type.RECOVERY_CODES)
        .exists()
    )


def may_invite(actor: User | None, user: User) -> bool:
    if actor is None:
        return True  # the server's command line
    if actor.pk == user.pk:
        return False
    if actor.is_superuser:
        return True
    if user.is_superuser or not is_privacy_officer(actor):
        return False
    profile = getattr(user, "staff_profile", None)
    return (
        profile is not None
        and profile.clinics.filter(pk__in=actor.staff_profile.clinics.values("pk")).exists()
    )


def staff_invitation_issue(
    *, user: User, actor: User | None, purpose: str = StaffInvitation.Purpose.ENROL
) -> tuple[StaffInvitation, str]:
    """Send `user` an invitation to set up (ENROL) or replace (RESET) their
    authenticator: a new row, any open invitation of theirs replaced, and the
    e-mail queued in the same transaction. Returns the row and the token (the
    only copy outside the outbox: the row keeps its hash)."""
    if not is_staff_member(user):
        raise InvitationError(gettext(MSG_NOT_STAFF))
    if not user.is_active:
        raise InvitationError(gettext(MSG_INACTIVE))
    if actor is not None and actor.pk == user.pk:
        raise InvitationError(gettext(MSG_NOT_YOURSELF))
    if not may_invite(actor, user):
        raise InvitationError(gettext(MSG_NOT_ALLOWED))
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        # The person's row is the lock: two administrators pressing "send" at
        # once leave one open invitation (the partial unique constraint is
        # the last line).
        User.objects.select_for_update().filter(pk=user.pk).first()
        # A profile made or changed outside the services (the shell, an old
        # row) gets its role's admin permissions with its first invitation.
        staff_groups_sync(user=user)
        enrolled = has_authenticator(user)
        if purpose == StaffInvitation.Purpose.ENROL and enrolled:
            raise InvitationError(gettext(MSG_ALREADY_ENROLLED))
        if purpose == StaffInvitation.Purpose.RESET and not enrolled:
            raise InvitationError(gettext(MSG_NOTHING_TO_RESET))
        now = timezone.now()
        StaffInvitation.objects.filter(
            user=user, used_at__isnull=True, replaced_at__isnull=True
        ).update(replaced_at=now)
        invitation = StaffInvitation(
            user=user,
            purpose=purpose,
            token_hash=_hash(token),
            created_by=actor,
            created_at=now,
            expires_at=now + timedelta(hours=settings.STAFF_INVITATION_HOURS),
        )
        invitation.full_clean()
        invitation.save()
        # The token rides in the outbox row until the e-mail is sent, then
        # the handler blanks it.
        outbox.outbox_enqueue(
            kind=INVITATION_EMAIL,
            key=f"invitation:{invitation.pk}",
            payload={"invitation_id": invitation.pk, "token": token},
        )
    logger.info(
        "two-factor invitation %s (%s) for user %s sent by %s",
        invitation.pk,
        purpose,
        user.pk,
        actor.pk if actor else "the command line",
    )
    return invitation, token


def _refusal(invitation: StaffInvitation) -> str | None:
    """Why this invitation cannot be used now, or None if it can."""
    if invitation.used_at is not None:
        return gettext(MSG_USED)
    if invitation.replaced_at is not None:
        return gettext(MSG_REPLACED)
    if invitation.expires_at <= timezone.now():
        return gettext(MSG_EXPIRED)
    if not invitation.user.is_active:
        return gettext(MSG_UNKNOWN)
    return None


def staff_invitation_find(*, token: str) -> StaffInvitation:
    """The usable invitation a link's token names, or InvitationError saying why not."""
    invitation = (
        StaffInvitation.objects.select_related("user").filter(token_hash=_hash(token)).first()
    )
    if invitation is None:
        raise InvitationError(gettext(MSG_UNKNOWN))
    if (refusal := _refusal(invitation)) is not None:
        raise InvitationError(refusal)
    return invitation


def staff_invitation_get(*, invitation_id: int | None) -> StaffInvitation:
    """The usable invitation a session holds (see `staff_invitation_find`)."""
    invitation = (
        StaffInvitation.objects.select_related("user").filter(pk=invitation_id).first()
        if invitation_id
        else None
    )
    if invitation is None:
        raise InvitationError(gettext(MSG_UNKNOWN))
    if (refusal := _refusal(invitation)) is not None:
        raise InvitationError(refusal)
    return invitation


def staff_invitation_redeem(
    *,
    invitation: StaffInvitation,
    user: User,
    totp_secret: str,
    keep_session_key: str | None = None,
) -> Authenticator:
    """Use the invitation: the authenticator whose code the person just
    proved is saved, a reset's old authenticators go, new recovery codes are
    made, the invitation is marked used, and the person's other sessions end,
    all in one transaction. Returns the recovery codes' authenticator.

    Marked used by a conditional update first: two tabs posting at once
    queue on the row, and the second finds it used and changes nothing."""
    if invitation.user_id != user.pk:
        raise InvitationError(gettext(MSG_OTHER_USER))
    with transaction.atomic():
        now = timezone.now()
        taken = StaffInvitation.objects.filter(
            pk=invitation.pk,
            used_at__isnull=True,
            replaced_at__isnull=True,
            expires_at__gt=now,
        ).update(used_at=now)
        if not taken:
            invitation.refresh_from_db()
            raise InvitationError(_refusal(invitation) or gettext(MSG_USED))
        old = Authenticator.objects.filter(user=user)
        enrolled = old.exclude(type=Authenticator.Type.RECOVERY_CODES).exists()
        if invitation.purpose == StaffInvitation.Purpose.ENROL and enrolled:
            raise InvitationError(gettext(MSG_ALREADY_ENROLLED))
        removed = old.exclude(type=Authenticator.Type.RECOVERY_CODES).count()
        # A reset's authenticators (lost with a phone), or recovery codes
        # left from before: a fresh start either way.
        old.delete()
        TOTP.activate(user, totp_secret)
        codes = RecoveryCodes.activate(user).instance
        StaffInvitation.objects.filter(pk=invitation.pk).update(authenticators_removed=removed)
        _address_verified(user)
        other_sessions_end(user=user, keep_session_key=keep_session_key)
    logger.info(
        "two-factor invitation %s used by user %s (%s authenticator(s) replaced)",
        invitation.pk,
        user.pk,
        removed,
    )
    return codes


def _address_verified(user: User) -> None:
    """The link came to this address: it is the person's. allauth's sign-in
    wants a verified address, which an account made in the admin lacks."""
    addresses = EmailAddress.objects.filter(user=user)
    if addresses.filter(email__iexact=user.email).update(verified=True):
        return
    EmailAddress.objects.create(
        user=user,
        email=user.email,
        verified=True,
        primary=not addresses.filter(primary=True).exists(),
    )


@outbox.handler(INVITATION_EMAIL)
def send_staff_invitation(message: OutboxMessage) -> bool:
    invitation = (
        StaffInvitation.objects.select_related("user", "created_by")
        .filter(pk=message.payload["invitation_id"])
        .first()
    )
    token = message.payload.get("token")
    if invitation is None or not token or _refusal(invitation) is not None:
        return False  # used, replaced or expired before the sweep came: nothing to send
    user = invitation.user
    hours = round((invitation.expires_at - invitation.created_at).total_seconds() / 3600)
    send_templated(
        to=user.email,
        language=user.preferred_language,
        template="email/staff_invitation",
        context={
            "user": user,
            "link": invitation_link(token),
            "hours": hours,
            "is_reset": invitation.purpose == StaffInvitation.Purpose.RESET,
            "sent_by": invitation.created_by,
        },
    )
    # Sent: the database no longer needs the link (the row keeps its hash).
    OutboxMessage.objects.filter(pk=message.pk).update(payload={"invitation_id": invitation.pk})
    return True
