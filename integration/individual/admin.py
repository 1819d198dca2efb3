"""A clinic's window for integration sessions. The sessions themselves are
on the calendar and the staff pages, where every read is logged."""

from django.contrib import admin

from clinic.admin import ClinicScopedAdminMixin

from .models import IntegrationSessionSettings


@admin.register(IntegrationSessionSettings)
class IntegrationSessionSettingsAdmin(ClinicScopedAdminMixin, admin.ModelAdmin):
    clinic_lookup = "clinic"  # each clinic's own (superusers: every clinic)
    list_display = ["clinic", "window_from_days", "window_to_days", "session_minutes"]
