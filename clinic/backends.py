"""The authentication backends, reading a signed-in person's staff or client
profile with the person, and whether they have an authenticator: every page
asks which profile they have (the staff gate, the portal) and the staff gate
asks about two-factor, and this is one query instead of four."""

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from django.contrib.auth import backends, get_user_model
from django.db.models import Exists, OuterRef


class _ProfilesWithUser:
    def get_user(self, user_id):
        from allauth.mfa.models import Authenticator

        user_model = get_user_model()
        try:
            user = (
                user_model._default_manager.select_related("staff_profile", "client_profile")
                .annotate(
                    # Read by the staff gate (clinic.middleware.mfa_enabled): the
                    # state as the request began, as allauth's own check would see it.
                    has_authenticator=Exists(Authenticator.objects.filter(user_id=OuterRef("pk")))
                )
                .get(pk=user_id)
            )
        except user_model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None


class ModelBackend(_ProfilesWithUser, backends.ModelBackend):
    pass


class AuthenticationBackend(_ProfilesWithUser, AllauthBackend):
    pass
