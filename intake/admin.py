from django.contrib import admin

from clinic.admin import ClinicianReadAdminMixin, HealthDataAdminMixin

from .models import (
    AvailabilityException,
    AvailabilityWindow,
    BookingRules,
    IntakeCall,
    InterestRegistration,
)


@admin.register(BookingRules)
class BookingRulesAdmin(admin.ModelAdmin):
    list_display = [
        "clinic",
        "call_minutes",
        "buffer_minutes",
        "minimum_notice_hours",
        "horizon_days",
        "change_cutoff_hours",
    ]


@admin.register(AvailabilityWindow)
class AvailabilityWindowAdmin(admin.ModelAdmin):
    list_display = [
        "staff",
        "clinic",
        "weekday",
        "start_time",
        "end_time",
        "valid_from",
        "valid_until",
    ]
    list_filter = ["clinic", "weekday"]
    list_select_related = ["staff", "clinic"]
    autocomplete_fields = ["staff"]


@admin.register(AvailabilityException)
class AvailabilityExceptionAdmin(admin.ModelAdmin):
    list_display = ["start", "end", "clinic", "staff", "reason"]
    list_filter = ["clinic"]
    list_select_related = ["staff", "clinic"]
    autocomplete_fields = ["staff"]
    date_hierarchy = "start"


@admin.register(IntakeCall)
class IntakeCallAdmin(ClinicianReadAdminMixin, HealthDataAdminMixin, admin.ModelAdmin):
    """Read-only here: calls are booked, moved and recorded through the services.
    The concern and the notes are clinical: as on the staff call page,
    coordinators see the call there, without them."""

    clinic_lookup = "appointment__clinic"
    list_display = ["appointment", "course", "language"]
    list_select_related = ["appointment__clinic", "course__client__user"]
    readonly_fields = [
        "uuid",
        "appointment",
        "course",
        "concern",
        "language",
        "phone",
        "consent_to_contact",
        "notes",
        "outcome_by",
        "outcome_at",
        "created_at",
    ]
    fields = readonly_fields

    def client_of(self, obj):
        return obj.course.client


@admin.register(InterestRegistration)
class InterestRegistrationAdmin(admin.ModelAdmin):
    list_display = ["email", "concern", "clinic", "language", "created_at"]
    list_filter = ["concern", "clinic"]
    # The clinic is optional (a nullable key), which the admin does not join by itself.
    list_select_related = ["clinic"]
