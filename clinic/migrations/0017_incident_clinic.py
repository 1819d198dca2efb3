# Written by hand on 2026-12-03: the incident register is kept per clinic, so a
# privacy officer reads only their own clinics' incidents (issue 10, item 8).

import django.db.models.deletion
from django.db import migrations, models


def name_the_clinic_where_it_is_clear(apps, schema_editor):
    """An entry recorded by a privacy officer of exactly one clinic was about
    that clinic. The others stay without one: they show only to whoever
    recorded them, who names the clinic when completing the entry."""
    Incident = apps.get_model("clinic", "ConfidentialityIncident")
    StaffProfile = apps.get_model("clinic", "StaffProfile")
    for incident in Incident.objects.filter(clinic__isnull=True):
        profile = StaffProfile.objects.filter(user_id=incident.recorded_by_id).first()
        if profile is None:
            continue
        clinic_ids = list(profile.clinics.values_list("pk", flat=True))
        if len(clinic_ids) == 1:
            Incident.objects.filter(pk=incident.pk).update(clinic_id=clinic_ids[0])


class Migration(migrations.Migration):

    dependencies = [
        ('clinic', '0016_staff_invitation'),
    ]

    operations = [
        migrations.AddField(
            model_name='confidentialityincident',
            name='clinic',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinic.clinic', verbose_name='clinic'),
        ),
        migrations.AddIndex(
            model_name='confidentialityincident',
            index=models.Index(fields=['clinic', '-discovered_on'], name='incident_clinic_idx'),
        ),
        migrations.RunPython(name_the_clinic_where_it_is_clear, migrations.RunPython.noop),
    ]
