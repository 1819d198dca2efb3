from allauth.mfa.models import Authenticator
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminSplitDateTime
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import invitations, selectors
from .access_log import access_log_record, access_log_record_many
from .formatting import birth_date_display, phone_display
from .forms import CourseTransitionForm
from .models import (
    AccessLogArchive,
    AccessLogEntry,
    AccountClosureRequest,
    Appointment,
    ClientProfile,
    Clinic,
    ConfidentialityIncident,
    Course,
    JourneyEvent,
    OutboxMessage,
    Reservation,
    Room,
    StaffInvitation,
    StaffProfile,
    User,
    object_type_label,
)
from .permissions import is_clinician, is_privacy_officer
from .roles import staff_groups_sync
from .views import admin_login

# The admin signs in through allauth only, so staff pass the same login,
# rate limits and two-factor steps as everywhere else: its own login form
# (no rate limit, no MFA step) is never shown.
admin.site.login = admin_login
admin.site.site_header = admin.site.site_title = _("Ketamine-Assisted Therapy Clinic")
# The navigation sidebar takes 300 px of every page: at 1280 px the lists
# staff read daily (the screening queue, the access log) were cut off. The
# home page and the breadcrumbs lead to the same places.
admin.site.enable_nav_sidebar = False


class LabelledSplitDateTime(AdminSplitDateTime):
    """The admin's date and time boxes, each with its own label ("Date:",
    "Time:"): Django's widget prints the words beside the boxes but labels
    neither, which axe reports as a critical violation and a screen reader
    reads as two unnamed boxes."""

    template_name = "admin/widgets/labelled_split_datetime.html"


class ClinicScopedAdminMixin:
    """A staff member sees the rows of their own clinics only
    (`clinic_lookup`, the path to the row's clinic): in the list, in the CSV
    an action exports (actions read the same queryset), and by id (another
    clinic's row is "not found")."""

    clinic_lookup: str | None = None

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if self.clinic_lookup is None:
            return queryset
        return queryset.filter(
            **{f"{self.clinic_lookup}__in": selectors.staff_clinic_ids(user=request.user)}
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # A row is saved at one of the person's clinics, for one of their
        # clinics' staff: another clinic's id is "not a valid choice".
        clinic_ids = selectors.staff_clinic_ids(user=request.user)
        if db_field.related_model is Clinic:
            kwargs["queryset"] = Clinic.objects.filter(pk__in=clinic_ids)
        elif db_field.related_model is User and db_field.name == "staff":
            kwargs["queryset"] = (
                User.objects.filter(staff_profile__clinics__in=clinic_ids)
                .distinct()
                .order_by("last_name", "first_name")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class HealthDataAdminMixin(ClinicScopedAdminMixin):
    """Admin pages that show a client's health data: a staff member sees the
    rows of their own clinics only, and each read is logged (the object
    opened, every row a list shows), as is each change saved."""

    def client_of(self, obj):
        raise NotImplementedError

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        if (client := self.client_of(obj)) is not None:
            access_log_record(
                actor=request.user,
                client=client,
                obj=obj,
                action=AccessLogEntry.Action.CHANGE,
                request=request,
            )
        return entry

    def _log(self, request, objects) -> None:
        items = [(client, obj) for obj in objects if (client := self.client_of(obj)) is not None]
        if items:
            access_log_record_many(actor=request.user, items=items, request=request)

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", None) and response.context_data.get("cl")
        if changelist is not None and response.status_code == 200:
            self._log(request, changelist.result_list)
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        original = getattr(response, "context_data", None) and response.context_data.get("original")
        if original is not None and response.status_code == 200:
            self._log(request, [original])
        return response


class ClinicianReadAdminMixin:
    """Clinical records the admin shows read-only, to clinicians only (not
    coordinators, not the privacy officer); with HealthDataAdminMixin, of
    their own clinics only."""

    def has_module_permission(self, request):
        return is_clinician(request.user) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return is_clinician(request.user) and super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Personal info"), {"fields": ["first_name", "last_name", "preferred_language"]}),
        (
            _("Permissions"),
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        (_("Important dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]


class RoomInline(admin.TabularInline):
    model = Room
    extra = 0


@admin.register(Clinic)
class ClinicAdmin(admin.ModelAdmin):
    list_display = ["name", "province", "time_zone", "minimum_client_age"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [RoomInline]


def may_send_invitations(request) -> bool:
    return request.user.is_superuser or is_privacy_officer(request.user)


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    """Superusers manage staff profiles. A privacy officer sees those of
    their clinics (read-only) to send two-factor invitations and resets."""

    list_display = [
        "user",
        "role",
        "profession",
        "registration_number",
        "criminal_record_check_on",
        "has_authenticator",
    ]
    list_filter = ["role", "clinics"]
    list_select_related = ["user"]
    search_fields = ["user__email", "user__last_name", "registration_number"]
    autocomplete_fields = ["user"]
    actions = ["send_invitation", "send_reset"]

    def has_invite_permission(self, request):
        return may_send_invitations(request)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # The role may have changed: the groups (admin permissions) follow it.
        staff_groups_sync(user=form.instance.user)

    def get_queryset(self, request):
        authenticators = Authenticator.objects.filter(user=OuterRef("user")).exclude(
            type=Authenticator.Type.RECOVERY_CODES
        )
        queryset = super().get_queryset(request).annotate(_has_authenticator=Exists(authenticators))
        if request.user.is_superuser:
            return queryset
        return queryset.filter(
            pk__in=StaffProfile.objects.filter(
                clinics__in=selectors.staff_clinic_ids(user=request.user)
            ).values("pk")
        )

    @admin.display(description=_("two-factor set up"), boolean=True)
    def has_authenticator(self, obj):
        return obj._has_authenticator

    def _invite(self, request, queryset, purpose):
        sent = 0
        for profile in queryset.select_related("user"):
            try:
                invitations.staff_invitation_issue(
                    user=profile.user, actor=request.user, purpose=purpose
                )
            except invitations.InvitationError as error:
                self.message_user(request, f"{profile.user}: {error}", messages.WARNING)
                continue
            sent += 1
            self.log_change(
                request,
                profile,
                [{"changed": {"fields": [str(StaffInvitation.Purpose(purpose).label)]}}],
            )
        if sent:
            self.message_user(
                request,
                ngettext("%(count)d invitation sent.", "%(count)d invitations sent.", sent)
                % {"count": sent},
                messages.SUCCESS,
            )

    @admin.action(description=_("Send a two-factor invitation"), permissions=["invite"])
    def send_invitation(self, request, queryset):
        self._invite(request, queryset, StaffInvitation.Purpose.ENROL)

    @admin.action(
        description=_("Reset the authenticator (send an invitation)"), permissions=["invite"]
    )
    def send_reset(self, request, queryset):
        self._invite(request, queryset, StaffInvitation.Purpose.RESET)


@admin.register(StaffInvitation)
class StaffInvitationAdmin(ReadOnlyAdmin):
    """The record of two-factor invitations: who invited whom, when, and
    when each was used. Read by superusers and privacy officers (their
    clinics' staff); invitations are sent from the staff profiles' list."""

    list_display = [
        "user",
        "purpose",
        "created_by",
        "created_at",
        "expires_at",
        "used_at",
        "replaced_at",
    ]
    list_filter = ["purpose"]
    list_select_related = ["user", "created_by"]
    search_fields = ["user__email", "user__last_name"]
    exclude = ["token_hash"]

    def has_module_permission(self, request):
        return may_send_invitations(request) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return may_send_invitations(request) and super().has_view_permission(request, obj)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(
            user__in=StaffProfile.objects.filter(
                clinics__in=selectors.staff_clinic_ids(user=request.user)
            ).values("user")
        )


@admin.register(Room)
class RoomAdmin(ClinicScopedAdminMixin, admin.ModelAdmin):
    """A clinic's rooms, kept by its coordinators (a room in use by the
    calendar is never deleted: it is taken out of use)."""

    clinic_lookup = "clinic"
    list_display = ["name", "clinic", "is_dosing_room", "is_active"]
    list_filter = ["clinic", "is_dosing_room", "is_active"]
    list_select_related = ["clinic"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ClientProfile)
class ClientProfileAdmin(HealthDataAdminMixin, admin.ModelAdmin):
    clinic_lookup = "clinic"
    list_display = ["user", "clinic", "born", "phone_number", "created_at"]
    list_filter = ["clinic"]
    list_select_related = ["user", "clinic"]

    def client_of(self, obj):
        return obj

    @admin.display(description=_("date of birth"), ordering="date_of_birth")
    def born(self, obj):
        return birth_date_display(obj.date_of_birth, timezone.localdate(timezone=obj.clinic.zone))

    @admin.display(description=_("phone"))
    def phone_number(self, obj):
        return phone_display(obj.phone) or "—"

    search_fields = ["user__email", "user__last_name"]
    readonly_fields = ["uuid", "created_at"]
    autocomplete_fields = ["user"]

    def has_delete_permission(self, request, obj=None):
        return False


class JourneyEventInline(admin.TabularInline):
    model = JourneyEvent
    extra = 0
    can_delete = False
    readonly_fields = ["at", "from_stage", "to_stage", "actor", "reason"]
    fields = readonly_fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Course)
class CourseAdmin(HealthDataAdminMixin, admin.ModelAdmin):
    """The stage is read-only here: it changes through the transition page,
    which calls the same journey service as every other entry point."""

    clinic_lookup = "clinic"
    list_display = ["client", "clinic", "stage", "stage_changed_at"]
    list_filter = ["stage", "clinic"]
    list_select_related = ["client__user", "clinic"]

    def client_of(self, obj):
        return obj.client

    search_fields = ["client__user__email", "client__user__last_name"]
    readonly_fields = [
        "uuid",
        "client",
        "clinic",
        "stage",
        "stage_before_hold",
        "stage_changed_at",
        "opened_at",
    ]
    fields = readonly_fields
    inlines = [JourneyEventInline]
    change_form_template = "admin/clinic/course/change_form.html"

    def has_delete_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        # A course opens through sign-up or booking (journey.course_open).
        return False

    def get_urls(self):
        return [
            path(
                "<path:object_id>/transition/",
                self.admin_site.admin_view(self.transition_view),
                name="clinic_course_transition",
            ),
            *super().get_urls(),
        ]

    def transition_view(self, request, object_id):
        course = self.get_object(request, object_id)  # the staff member's clinics only
        if course is None:
            raise Http404
        if not self.has_change_permission(request, course):
            return redirect("admin:index")
        access_log_record(actor=request.user, client=course.client, obj=course, request=request)
        form = CourseTransitionForm(request.POST or None, course=course)
        if request.method == "POST":
            message = form.apply(actor=request.user)
            if message:
                self.message_user(request, message, messages.SUCCESS)
                return redirect(reverse("admin:clinic_course_change", args=[course.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": course,
            "form": form,
            "title": _("Change the stage of %(course)s") % {"course": course},
        }
        return TemplateResponse(request, "admin/clinic/course/transition.html", context)


@admin.register(JourneyEvent)
class JourneyEventAdmin(HealthDataAdminMixin, ReadOnlyAdmin):
    clinic_lookup = "course__clinic"
    list_display = ["at", "course", "from_stage", "to_stage", "actor"]
    list_filter = ["to_stage"]
    list_select_related = ["course__client__user", "actor"]

    def client_of(self, obj):
        return obj.course.client


class ObjectTypeFilter(admin.SimpleListFilter):
    title = _("what was read")
    parameter_name = "object_type"

    # The kinds read among the newest entries (and the one chosen): a DISTINCT
    # over the whole log reads every row, hundreds of millions in a few years.
    RECENT = 2_000

    def lookups(self, request, model_admin):
        recent = (
            model_admin.get_queryset(request)
            .order_by("-at")
            .values_list("object_type", flat=True)[: self.RECENT]
        )
        types = set(recent) | ({self.value()} if self.value() else set())
        return sorted(((t, object_type_label(t)) for t in types), key=lambda c: str(c[1]))

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(object_type=self.value())
        return queryset


class CappedPaginator(Paginator):
    """Counts up to CAP entries, not the whole log: a count of every row the
    filters match reads them all (hundreds of millions with no filter). Past
    the cap, the privacy officer narrows the list by date, person or action."""

    CAP = 2_000

    @cached_property
    def count(self):
        return self.object_list[: self.CAP].count()


@admin.register(AccessLogEntry)
class AccessLogEntryAdmin(ClinicScopedAdminMixin, ReadOnlyAdmin):
    """Read by the privacy officer (and superusers), for their own clinics'
    clients; nobody changes it."""

    clinic_lookup = "client__clinic"
    paginator = CappedPaginator
    show_full_result_count = False

    def has_module_permission(self, request):
        return may_send_invitations(request) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return may_send_invitations(request) and super().has_view_permission(request, obj)

    actions = ["export_csv"]

    @admin.action(description=_("Export the selected entries (CSV)"))
    def export_csv(self, request, queryset):
        from django.http import HttpResponse

        from . import csv_safe

        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="access-log.csv"'
        writer = csv_safe.writer(response)
        writer.writerow(
            [
                _("at"),
                _("staff member"),
                _("action"),
                _("object type"),
                _("object id"),
                _("client"),
                _("page"),
                _("IP address"),
                _("hash"),
                _("position in the chain"),
            ]
        )
        for entry in queryset.select_related("actor", "client__user").order_by("pk"):
            writer.writerow(
                [
                    entry.at.isoformat(),
                    entry.actor.email,
                    entry.action,
                    entry.object_type,
                    entry.object_id,
                    entry.client.user.email,
                    entry.path,
                    entry.ip_address or "",
                    entry.entry_hash,
                    entry.seq or "",
                ]
            )
        return response

    # Read by a privacy officer: who read what about whom, in words, and when
    # in the clinic's time (StaffTimeZoneMiddleware); the raw type, the page
    # and the hashes stay in each entry and in the CSV.
    list_display = ["at", "actor", "action", "what", "client", "ip_address"]
    list_display_links = ["at"]
    list_filter = ["action", ObjectTypeFilter]
    list_select_related = ["actor", "client__user"]
    date_hierarchy = "at"
    fields = [
        "at",
        "actor",
        "action",
        "what",
        "object_type",
        "object_id",
        "client",
        "path",
        "ip_address",
        "sealed",
        "seq",
        "previous_hash",
        "entry_hash",
    ]
    readonly_fields = fields

    # An entry is a real read from the moment it is written; the sealer gives
    # it its place in the chain a few seconds later.
    @admin.display(description=_("sealed into the chain"), boolean=True)
    def sealed(self, obj):
        return obj.is_sealed

    @admin.display(description=_("what was read"), ordering="object_type")
    def what(self, obj):
        return obj.object_label


@admin.register(AccessLogArchive)
class AccessLogArchiveAdmin(ReadOnlyAdmin):
    """The months archived by `manage.py archive_access_log`: where each file
    is and how to check it. Superusers only for now: the archive covers every
    clinic's entries (the privacy officer's group would need the permission
    through a role-groups migration, clinic/roles.py); changed by nobody."""

    list_display = ["month", "rows", "file_name", "sha256", "archived_at"]
    fields = [
        "month",
        "rows",
        "file_name",
        "sha256",
        "first_position",
        "last_position",
        "previous_hash",
        "last_hash",
        "archived_at",
    ]
    readonly_fields = fields


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ["kind", "key", "status", "due_at", "attempts", "done_at"]
    list_filter = ["status", "kind"]


class ReservationInline(admin.TabularInline):
    model = Reservation
    extra = 0
    can_delete = False
    fields = ["staff", "room", "client", "start", "end", "is_live"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("staff", "room__clinic", "client__user")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Appointment)
class AppointmentAdmin(HealthDataAdminMixin, ReadOnlyAdmin):
    """The calendar, read-only: appointments change through each stage's services."""

    clinic_lookup = "clinic"
    list_display = ["start", "kind", "clinic", "status", "client", "room"]
    list_filter = ["clinic", "kind", "status"]
    list_select_related = ["clinic", "client__user", "room__clinic"]

    def client_of(self, obj):
        return obj.client  # None for a group meeting: nobody's record in particular

    date_hierarchy = "start"
    inlines = [ReservationInline]


class PrivacyOfficerAdminMixin:
    """The privacy officer's registers: theirs to read and complete, nobody deletes."""

    def has_module_permission(self, request):
        return is_privacy_officer(request.user) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return is_privacy_officer(request.user) and super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return is_privacy_officer(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ConfidentialityIncident)
class ConfidentialityIncidentAdmin(PrivacyOfficerAdminMixin, admin.ModelAdmin):
    """The privacy officer's register (Law 25), one per clinic: an officer
    reads and records their own clinics' incidents. Entries can be completed
    as notifications are made, never deleted. An entry from before the
    register was kept per clinic (no clinic) shows to whoever recorded it,
    who names its clinic when completing it."""

    list_display = [
        "discovered_on",
        "clinic",
        "risk",
        "people_affected",
        "commission_notified_on",
        "people_notified_on",
    ]
    list_filter = ["risk", "clinic"]
    list_select_related = ["clinic"]
    date_hierarchy = "discovered_on"
    exclude = ["recorded_by"]

    def has_add_permission(self, request):
        return is_privacy_officer(request.user) and super().has_add_permission(request)

    def get_queryset(self, request):
        clinic_ids = selectors.staff_clinic_ids(user=request.user)
        return (
            super()
            .get_queryset(request)
            .filter(Q(clinic__in=clinic_ids) | Q(clinic__isnull=True, recorded_by=request.user))
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "clinic":
            # One of the officer's own clinics: another's id is "not a valid choice".
            kwargs["queryset"] = Clinic.objects.filter(
                pk__in=selectors.staff_clinic_ids(user=request.user)
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.recorded_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(AccountClosureRequest)
class AccountClosureRequestAdmin(
    ClinicScopedAdminMixin, PrivacyOfficerAdminMixin, admin.ModelAdmin
):
    """Clients' requests to close their account, for the privacy officer of
    the client's clinic."""

    clinic_lookup = "client__clinic"

    list_display = ["client", "requested_at", "status", "handled_at"]
    list_filter = ["status"]
    list_select_related = ["client__user"]
    readonly_fields = ["client", "requested_at", "reason"]
    fields = ["client", "requested_at", "reason", "status", "handled_at", "outcome"]

    def has_add_permission(self, request):
        return False
