"""Version 1 of the preparation modules and of the consents to treatment and
to filming, in English and French: a clinic needs them from its first day.
Staff publish new versions in the admin; this migration never changes them."""

from django.db import migrations


def install(apps, schema_editor):
    from sessions import content

    content.install(apps)


class Migration(migrations.Migration):
    dependencies = [("dosing", "0001_initial")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
