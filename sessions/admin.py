from django.contrib import admin

from .models import DosingSettings


# The session record: a clinic's safety numbers (the clinical records
# themselves are kept on the staff pages, where every read is logged).
@admin.register(DosingSettings)
class DosingSettingsAdmin(admin.ModelAdmin):
    list_display = [
        "clinic",
        "confirm_systolic",
        "confirm_diastolic",
        "defer_systolic",
        "defer_diastolic",
        "post_dose_vitals_minutes",
    ]
