"""The admin of the prepare and dosing stages.

Preparation modules: editing a module's text publishes a new version (the
one clients read is never changed in place). Consent documents: a new
wording is a new document, added, never edited. Consents: read-only, to the
clinic's clinicians, each read logged."""

from django import forms
from django.contrib import admin, messages
from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinic.admin import (
    ClinicianReadAdminMixin,
    ClinicScopedAdminMixin,
    HealthDataAdminMixin,
    ReadOnlyAdmin,
)

from .models import (
    Consent,
    ConsentDocument,
    DosingSeries,
    DosingSession,
    DosingSettings,
    PreparationAppointment,
    PreparationModule,
    PreparationModuleVersion,
)
from .services import prepare as prepare_services

# --- Preparation modules ---------------------------------------------------------------------

CONTENT_FIELDS = ("title_en", "title_fr", "body_en", "body_fr")


class PreparationModuleForm(forms.ModelForm):
    """The module's settings, and the text of its current version: a changed
    text is saved as a new version."""

    title_en = forms.CharField(label=_("title (English)"), max_length=200)
    title_fr = forms.CharField(label=_("title (French)"), max_length=200)
    body_en = forms.CharField(
        label=_("text (English)"),
        widget=forms.Textarea(attrs={"rows": 18}),
        help_text=_(
            "Paragraphs separated by a blank line; a line starting with “## ” is a heading, "
            "lines starting with “- ” make a list."
        ),
    )
    body_fr = forms.CharField(label=_("text (French)"), widget=forms.Textarea(attrs={"rows": 18}))

    class Meta:
        model = PreparationModule
        fields = ["slug", "order", "required", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            latest = self.instance.versions.order_by("-number").first()
            if latest is not None:
                for name in CONTENT_FIELDS:
                    self.initial.setdefault(name, getattr(latest, name))


class PreparationModuleVersionInline(admin.TabularInline):
    model = PreparationModuleVersion
    extra = 0
    can_delete = False
    fields = ["number", "title_en", "title_fr", "published_at", "published_by"]
    readonly_fields = fields
    ordering = ["-number"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PreparationModule)
class PreparationModuleAdmin(admin.ModelAdmin):
    form = PreparationModuleForm
    list_display = ["slug", "current_title", "current_version", "order", "required", "is_active"]
    list_editable = ["order", "required", "is_active"]
    fieldsets = [
        (None, {"fields": ["slug", "order", "required", "is_active"]}),
        (
            _("Current text (saving a change publishes a new version)"),
            {"fields": list(CONTENT_FIELDS)},
        ),
    ]
    inlines = [PreparationModuleVersionInline]

    def get_queryset(self, request):
        latest = PreparationModuleVersion.objects.filter(module=OuterRef("pk")).order_by("-number")
        return (
            super()
            .get_queryset(request)
            .annotate(
                latest_number=Max("versions__number"),
                latest_title=Subquery(latest.values("title_en")[:1]),
            )
        )

    @admin.display(description=_("version"), ordering="latest_number")
    def current_version(self, obj):
        return obj.latest_number or "—"

    @admin.display(description=_("title"))
    def current_title(self, obj):
        return obj.latest_title or "—"

    def has_delete_permission(self, request, obj=None):
        return False  # completions point to its versions

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not all(name in form.cleaned_data for name in CONTENT_FIELDS):
            return  # the list's inline edit: settings only
        try:
            version = prepare_services.module_publish(
                module=obj, by=request.user, **{k: form.cleaned_data[k] for k in CONTENT_FIELDS}
            )
        except prepare_services.PrepareError:
            return  # settings changed, text unchanged: no new version
        if version.number > 1:
            self.message_user(
                request,
                _(
                    "Version %(number)s is published. Clients who read an earlier version "
                    "are asked to read it again."
                )
                % {"number": version.number},
                messages.SUCCESS,
            )


# --- Consent documents -----------------------------------------------------------------------


class ConsentDocumentForm(forms.ModelForm):
    class Meta:
        model = ConsentDocument
        fields = ["kind", "version", "language", "title", "body", "in_force_from"]
        help_texts = {
            "version": _(
                "A new wording is a new version: add it in each language, with the same "
                "version number and date. Clients are asked to sign it from that date."
            ),
        }

    def clean(self):
        data = super().clean()
        kind, version = data.get("kind"), data.get("version")
        if kind and version:
            newest = ConsentDocument.objects.filter(kind=kind).aggregate(Max("version"))[
                "version__max"
            ]
            if newest is not None and version < newest:
                self.add_error(
                    "version",
                    _("Version %(newest)s exists already: a new wording is %(newest)s or more.")
                    % {"newest": newest},
                )
        return data


@admin.register(ConsentDocument)
class ConsentDocumentAdmin(admin.ModelAdmin):
    form = ConsentDocumentForm
    list_display = ["kind", "version", "language", "title", "in_force_from"]
    list_filter = ["kind", "language"]
    readonly_fields = ["sha256", "created_at", "created_by"]

    def get_changeform_initial_data(self, request):
        return {"in_force_from": timezone.now(), **super().get_changeform_initial_data(request)}

    def has_change_permission(self, request, obj=None):
        return False  # signatures point to the exact text: it is never edited

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj.created_by = request.user
        super().save_model(request, obj, form, change)


# --- Consents ---------------------------------------------------------------------------------


@admin.register(Consent)
class ConsentAdmin(ClinicianReadAdminMixin, HealthDataAdminMixin, admin.ModelAdmin):
    clinic_lookup = "course__clinic"
    list_display = ["client_name", "document", "decision", "typed_name", "language", "at"]
    list_filter = ["decision", "document__kind"]
    list_select_related = ["course__client__user", "document"]
    fields = [
        "course",
        "document",
        "decision",
        "typed_name",
        "text_sha256",
        "language",
        "at",
        "ip_address",
        "withdraws",
    ]
    readonly_fields = fields
    list_per_page = 25
    show_full_result_count = False

    @admin.display(description=_("client"), ordering="course__client__user__last_name")
    def client_name(self, obj):
        return str(obj.course.client.user)

    def client_of(self, obj):
        return obj.course.client


# The session record: a clinic's safety numbers (the clinical records
# themselves are kept on the staff pages, where every read is logged).
@admin.register(DosingSettings)
class DosingSettingsAdmin(ClinicScopedAdminMixin, admin.ModelAdmin):
    clinic_lookup = "clinic"
    list_display = [
        "clinic",
        "session_minutes",
        "cleaning_buffer_minutes",
        "confirm_systolic",
        "confirm_diastolic",
        "defer_systolic",
        "defer_diastolic",
        "post_dose_vitals_minutes",
    ]


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
