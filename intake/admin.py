from django.contrib import admin
from django.db import models
from django.utils.translation import gettext_lazy as _

from clinic.admin import (
    ClinicianReadAdminMixin,
    ClinicScopedAdminMixin,
    HealthDataAdminMixin,
    LabelledSplitDateTime,
)
from clinic.formatting import phone_display
from clinic.permissions import is_clinician

from .models import (
    AvailabilityException,
    AvailabilityWindow,
    BookingRules,
    IntakeCall,
    IntakeCallOutcome,
    InterestRegistration,
)


@admin.register(BookingRules)
class BookingRulesAdmin(ClinicScopedAdminMixin, admin.ModelAdmin):
    clinic_lookup = "clinic"
    list_display = [
        "clinic",
        "call_minutes",
        "buffer_minutes",
        "minimum_notice_hours",
        "horizon_days",
        "change_cutoff_hours",
    ]


@admin.register(AvailabilityWindow)
class AvailabilityWindowAdmin(ClinicScopedAdminMixin, admin.ModelAdmin):
    clinic_lookup = "clinic"
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


@admin.register(AvailabilityException)
class AvailabilityExceptionAdmin(ClinicScopedAdminMixin, admin.ModelAdmin):
    clinic_lookup = "clinic"
    list_display = ["start", "end", "clinic", "staff", "reason"]
    list_filter = ["clinic"]
    list_select_related = ["staff", "clinic"]
    date_hierarchy = "start"
    formfield_overrides = {models.DateTimeField: {"widget": LabelledSplitDateTime}}


class IntakeCallOutcomeInline(admin.TabularInline):
    """The call's outcome and every correction, oldest first: read-only, as
    the records are (they are made on the staff call page)."""

    model = IntakeCallOutcome
    fk_name = "call"
    extra = 0
    fields = ["at", "by", "outcome", "notes", "corrects", "reason"]
    readonly_fields = fields
    ordering = ["pk"]
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by", "corrects")

    def has_view_permission(self, request, obj=None):
        return is_clinician(request.user) and super().has_view_permission(request, obj)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(IntakeCall)
class IntakeCallAdmin(ClinicianReadAdminMixin, HealthDataAdminMixin, admin.ModelAdmin):
    """Read-only here: calls are booked, moved and recorded through the services.
    The concern and the notes are clinical: as on the staff call page,
    coordinators see the call there, without them."""

    inlines = [IntakeCallOutcomeInline]

    clinic_lookup = "appointment__clinic"
    list_display = ["appointment", "course", "language"]
    list_select_related = ["appointment__clinic", "course__client__user"]
    readonly_fields = [
        "uuid",
        "appointment",
        "course",
        "concern",
        "language",
        "phone_display",
        "consent_to_contact",
        "created_at",
    ]
    fields = readonly_fields

    @admin.display(description=_("phone"))
    def phone_display(self, obj):
        return phone_display(obj.phone)

    def client_of(self, obj):
        return obj.course.client


class InterestStatusFilter(admin.SimpleListFilter):
    """Only confirmed registrations count (double opt-in): the list shows
    them unless asked for the ones still waiting, or for all."""

    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("pending", _("waiting for confirmation")), ("all", _("all"))]

    def choices(self, changelist):
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": _("confirmed"),
        }
        for value, label in self.lookup_choices:
            yield {
                "selected": self.value() == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request, queryset):
        if self.value() == "pending":
            return queryset.pending()
        if self.value() == "all":
            return queryset
        return queryset.confirmed()


@admin.register(InterestRegistration)
class InterestRegistrationAdmin(admin.ModelAdmin):
    """Registrations come from the public form and are confirmed by their
    owner's link: read-only here, with their record of consent. Deleting
    one is how the clinic forgets someone who asks."""

    list_display = ["email", "concern", "clinic", "language", "confirmed", "created_at"]
    list_filter = [InterestStatusFilter, "concern", "clinic"]
    # The clinic is optional (a nullable key), which the admin does not join by itself.
    list_select_related = ["clinic"]
    search_fields = ["email"]
    fields = [
        "name",
        "email",
        "concern",
        "clinic",
        "language",
        "consent_to_contact",
        "created_at",
        "consent_page",
        "consent_wording",
        "expires_at",
        "confirmed_at",
    ]
    readonly_fields = fields

    @admin.display(boolean=True, description=_("confirmed"), ordering="confirmed_at")
    def confirmed(self, obj):
        return obj.is_confirmed

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
