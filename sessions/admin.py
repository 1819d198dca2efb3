from django.contrib import admin

from clinic.admin import HealthDataAdminMixin, ReadOnlyAdmin

from .models import DosingSeries, DosingSession, DosingSettings, PreparationAppointment


@admin.register(DosingSettings)
class DosingSettingsAdmin(admin.ModelAdmin):
    """Each clinic's safety numbers and the day-of instructions its
    reminders carry (edited here, by the clinic)."""

    list_display = ["clinic", "session_minutes", "cleaning_buffer_minutes", "max_series_sessions"]


# Bookings are made on the room board (the scheduling services check the
# course's stage, the room, the people and the calendar): the admin only
# reads them, so no path here can book a dosing session for a client who is
# not in dosing.


@admin.register(PreparationAppointment)
class PreparationAppointmentAdmin(HealthDataAdminMixin, ReadOnlyAdmin):
    clinic_lookup = "course__clinic"
    list_display = ["appointment", "course", "booked_by", "created_at"]
    list_select_related = ["appointment__clinic", "course__client__user", "booked_by"]

    def client_of(self, obj):
        return obj.course.client


@admin.register(DosingSeries)
class DosingSeriesAdmin(HealthDataAdminMixin, ReadOnlyAdmin):
    clinic_lookup = "course__clinic"
    list_display = ["course", "planned_sessions", "planned_at", "ended_at"]
    list_select_related = ["course__client__user"]

    def client_of(self, obj):
        return obj.course.client


@admin.register(DosingSession)
class DosingSessionAdmin(HealthDataAdminMixin, ReadOnlyAdmin):
    clinic_lookup = "series__course__clinic"
    list_display = ["appointment", "series", "outcome"]
    list_select_related = ["appointment__clinic", "series__course__client__user"]

    def client_of(self, obj):
        return obj.series.course.client
