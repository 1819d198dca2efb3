"""The provinces' sales tax rates in force, and billing's permissions for the
coordinators (billing is their administrative work: there is no billing role).

The auth Group named "coordinator" holds each role's permissions; another
migration puts every coordinator in it. Created here if it is not there yet."""

from datetime import date
from decimal import Decimal

from django.db import migrations

# Rates as published (Canada Revenue Agency; Revenu Québec; B.C. Ministry of Finance).
RATES = [
    ("QC", "GST", Decimal("5.000"), date(2008, 1, 1)),
    ("QC", "QST", Decimal("9.975"), date(2013, 1, 1)),
    ("BC", "GST", Decimal("5.000"), date(2008, 1, 1)),
    ("BC", "PST", Decimal("7.000"), date(2013, 4, 1)),
]

GROUP = "coordinator"
CODENAMES = [
    "issue_invoice",
    "record_payment",
    "download_breakdown",
    *(f"{action}_{model}" for action in ("add", "change", "view") for model in (
        "catalogueitem", "invoice", "payment", "clinicbilling"
    )),
    "view_taxrate",
    "view_invoiceline",
    "delete_catalogueitem",
]


def install(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    TaxRate = apps.get_model("billing", "TaxRate")
    for province, tax, rate, start in RATES:
        TaxRate.objects.get_or_create(
            province=province, tax=tax, effective_from=start, defaults={"rate": rate}
        )
    # Model permissions are made after the last migration: make billing's now.
    config = apps.get_app_config("billing")
    config.models_module = True
    create_permissions(config, apps=apps, verbosity=0)
    config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="billing", codename__in=CODENAMES)
    )


def uninstall(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name=GROUP):
        group.permissions.remove(*group.permissions.filter(content_type__app_label="billing"))


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0001_catalogue_invoices_payments"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
