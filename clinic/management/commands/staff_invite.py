"""Send a staff member a two-factor invitation from the server's command line.

The way the first administrator gets an authenticator (nobody can invite them
from the admin yet), and a fallback when no other administrator can."""

from django.core.management.base import BaseCommand, CommandError

from clinic.invitations import InvitationError, invitation_link, staff_invitation_issue
from clinic.models import StaffInvitation, User


class Command(BaseCommand):
    help = "E-mail a staff member a single-use link to set up (or --reset) their authenticator."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Replace a lost authenticator (removed when the link is used).",
        )

    def handle(self, *args, email, reset=False, **options):
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            raise CommandError(f"No account has the address {email}.")
        purpose = StaffInvitation.Purpose.RESET if reset else StaffInvitation.Purpose.ENROL
        try:
            invitation, token = staff_invitation_issue(user=user, actor=None, purpose=purpose)
        except InvitationError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"Invitation sent to {user.email} (works once, until "
            f"{invitation.expires_at:%Y-%m-%d %H:%M} UTC):\n{invitation_link(token)}"
        )
