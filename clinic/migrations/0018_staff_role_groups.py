"""One auth group per staff role, named by the role's value, holding the
model permissions of the role's work, and every existing staff member in
their role's group. The table is frozen here; clinic/roles.py holds the
live one (kept in step by a post_migrate handler and the permission matrix)."""

from django.db import migrations

ROLE_PERMISSIONS = {
    "coordinator": [
        "clinic.view_clientprofile",
        "clinic.view_course",
        "clinic.change_course",
        "clinic.view_journeyevent",
        "clinic.view_appointment",
        "clinic.view_reservation",
        "clinic.view_room",
        "clinic.add_room",
        "clinic.change_room",
        "dosing.view_preparationappointment",
        "dosing.view_dosingseries",
        "dosing.view_dosingsession",
        "dosing.view_dosingsettings",
        "intake.view_availabilitywindow",
        "intake.add_availabilitywindow",
        "intake.change_availabilitywindow",
        "intake.delete_availabilitywindow",
        "intake.view_availabilityexception",
        "intake.add_availabilityexception",
        "intake.change_availabilityexception",
        "intake.delete_availabilityexception",
        "intake.view_bookingrules",
        "intake.change_bookingrules",
    ],
    "privacy_officer": [
        "clinic.view_accesslogentry",
        "clinic.view_accountclosurerequest",
        "clinic.change_accountclosurerequest",
        "clinic.view_confidentialityincident",
        "clinic.add_confidentialityincident",
        "clinic.change_confidentialityincident",
        "clinic.view_staffprofile",
        "clinic.view_staffinvitation",
    ],
}
CLINICIAN = [
    "clinic.view_clientprofile",
    "clinic.view_course",
    "clinic.change_course",
    "clinic.view_journeyevent",
    "clinic.view_appointment",
    "clinic.view_reservation",
    "dosing.view_preparationappointment",
    "dosing.view_dosingseries",
    "dosing.view_dosingsession",
    "dosing.view_dosingsettings",
    "dosing.view_consent",
    "eligibility.view_screening",
    "intake.view_intakecall",
    "intake.view_intakecalloutcome",
]
ROLE_PERMISSIONS["therapist"] = CLINICIAN
ROLE_PERMISSIONS["medical_practitioner"] = CLINICIAN


def create_groups(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    db = schema_editor.connection.alias
    # Permissions are normally made after the last migration (post_migrate):
    # make the ones this migration names now, on a fresh database.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0, using=db)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    StaffProfile = apps.get_model("clinic", "StaffProfile")
    groups = {}
    for role, names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.using(db).get_or_create(name=role)
        for name in names:
            app_label, codename = name.split(".")
            group.permissions.add(
                Permission.objects.using(db).get(
                    content_type__app_label=app_label, codename=codename
                )
            )
        groups[role] = group
    for profile in StaffProfile.objects.using(db).select_related("user"):
        if profile.role in groups:
            profile.user.groups.add(groups[profile.role])


def remove_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.using(schema_editor.connection.alias).filter(
        name__in=list(ROLE_PERMISSIONS)
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0017_incident_clinic"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("intake", "0007_interest_double_opt_in"),
        ("eligibility", "0004_submissions_required_and_kept"),
        ("dosing", "0004_recording_deletion"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
