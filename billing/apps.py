from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = _("Billing")

    def ready(self) -> None:
        from clinic.models import StaffRole
        from clinic.navigation import register_portal_page, register_staff_page
        from clinic.roles import register_role_permissions

        from .catalogue import BILLING_STAFF_PERMISSIONS

        # Billing is the coordinators' work: their group holds billing's
        # permissions (given by billing's migration, kept after a flush).
        register_role_permissions(
            "coordinator", {f"billing.{codename}" for codename in BILLING_STAFF_PERMISSIONS}
        )

        # Billing's pages need billing's permissions, which the coordinators' group holds.
        register_staff_page(
            "billing:staff_invoices", _("Invoices"), order=60, roles={StaffRole.COORDINATOR}
        )
        register_portal_page("billing:portal", _("Invoices, payments and cost estimate"), order=10)
        post_migrate.connect(
            _tax_rates_after_migrate, sender=self, dispatch_uid="billing_tax_rates"
        )


def _tax_rates_after_migrate(sender, using="default", **kwargs) -> None:
    """The provinces' rates are data every invoice needs: a database emptied
    (a test's flush, a restore into a fresh one) gets them back."""
    from .catalogue import tax_rates_install

    if using == "default":
        tax_rates_install()
