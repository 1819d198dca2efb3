"""The authentication backends, reading a signed-in person's staff or client
profile with the person: every page asks which one they have (the staff
gate, the portal), and this is one query instead of three."""

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from django.contrib.auth import backends, get_user_model


class _ProfilesWithUser:
    def get_user(self, user_id):
        user_model = get_user_model()
        try:
            user = user_model._default_manager.select_related(
                "staff_profile", "client_profile"
            ).get(pk=user_id)
        except user_model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None


class ModelBackend(_ProfilesWithUser, backends.ModelBackend):
    pass


class AuthenticationBackend(_ProfilesWithUser, AllauthBackend):
    pass
