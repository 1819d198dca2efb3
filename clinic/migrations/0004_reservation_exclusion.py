"""Nobody in two places at once, enforced by PostgreSQL itself: an exclusion
constraint per kind of resource refuses two live reservations whose time
ranges overlap. The calendar service checks first under a lock; these are the
last line. SQLite (the embedded default) cannot create them and relies on its
one-writer-at-a-time transactions plus the service's check."""

from django.db import migrations

RESOURCES = ("staff", "room", "client")


def add_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    for resource in RESOURCES:
        schema_editor.execute(
            f"ALTER TABLE clinic_reservation ADD CONSTRAINT reservation_{resource}_no_overlap "
            f"EXCLUDE USING gist ({resource}_id WITH =, tstzrange(start, \"end\", '[)') WITH &&) "
            f"WHERE (is_live AND {resource}_id IS NOT NULL)"
        )


def drop_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for resource in RESOURCES:
        schema_editor.execute(f"ALTER TABLE clinic_reservation DROP CONSTRAINT IF EXISTS reservation_{resource}_no_overlap")


class Migration(migrations.Migration):
    dependencies = [("clinic", "0003_calendar")]

    operations = [migrations.RunPython(add_constraints, drop_constraints)]
