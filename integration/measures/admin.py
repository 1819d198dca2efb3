"""A clinic's schedule of questionnaires. The invitations and answers are
read on the staff pages, where every read is logged, not in the admin."""

from django.contrib import admin

from clinic.admin import ClinicScopedAdminMixin

from .models import MeasureSettings


@admin.register(MeasureSettings)
class MeasureSettingsAdmin(ClinicScopedAdminMixin, admin.ModelAdmin):
    clinic_lookup = "clinic"  # each clinic's own (superusers: every clinic)
    list_display = ["clinic", "follow_up_days", "valid_days", "days_before_dosing"]
