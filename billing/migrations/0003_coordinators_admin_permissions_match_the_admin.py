"""The coordinators' billing permissions made to match what billing's admin
lets them do: 0002 gave them the right to change invoices and payments, to
add payments and billing settings and to delete catalogue items, none of
which the admin allows a coordinator (invoices and payments change only
through billing's pages; a catalogue item an issued invoice used is never
deleted). Taken back here; the reverse gives them back."""

from django.db import migrations

GROUP = "coordinator"
WITHDRAWN = [
    "change_invoice",
    "add_payment",
    "change_payment",
    "add_clinicbilling",
    "delete_catalogueitem",
]


def _withdrawn(apps):
    Permission = apps.get_model("auth", "Permission")
    return Permission.objects.filter(content_type__app_label="billing", codename__in=WITHDRAWN)


def withdraw(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name=GROUP):
        group.permissions.remove(*_withdrawn(apps))


def give_back(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name=GROUP):
        group.permissions.add(*_withdrawn(apps))


class Migration(migrations.Migration):
    dependencies = [("billing", "0002_tax_rates_and_coordinator_permissions")]

    operations = [migrations.RunPython(withdraw, give_back)]
