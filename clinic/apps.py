from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ClinicConfig(AppConfig):
    default = True  # this module holds the admin's config too
    name = "clinic"
    verbose_name = _("Clinic")

    def ready(self) -> None:
        from . import emails, invitations, signals  # noqa: F401  (outbox handlers, receivers)
        from .navigation import register_staff_page

        register_staff_page("staff:home", _("Courses"), order=10)
        post_migrate.connect(_role_groups_after_migrate, dispatch_uid="clinic_role_groups")
        post_migrate.connect(
            _access_log_partitions_after_migrate,
            sender=self,
            dispatch_uid="clinic_access_log_partitions",
        )


def _role_groups_after_migrate(sender, using="default", **kwargs) -> None:
    """Once per migrate (or test flush), after the last app's permissions
    exist: the staff roles' groups and their permissions (clinic/roles.py)."""
    from django.apps import apps

    # post_migrate is sent for each app with models, in order: the last one's.
    with_models = [config for config in apps.get_app_configs() if config.models_module]
    if sender is not with_models[-1]:
        return
    from .roles import role_groups_ensure

    role_groups_ensure(using=using)


def _access_log_partitions_after_migrate(sender, using="default", **kwargs) -> None:
    """A database migrated (or flushed by a test) after months without beat
    still has this month's and the next months' access-log partitions."""
    from .access_log_partitions import partitions_ensure

    partitions_ensure(using=using)


class ClinicAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin, on the clinic's admin site (clinic/admin_site.py)."""

    default = False
    default_site = "clinic.admin_site.ClinicAdminSite"
