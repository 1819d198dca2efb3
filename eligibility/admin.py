"""Clinician review of screenings in the Django admin. Only therapists and
medical practitioners of the screening's clinic see it; each view of a
screening is written to the access log."""

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinic.admin import ClinicianReadAdminMixin, HealthDataAdminMixin

from . import selectors, services
from .models import Decision, Screening


class WaitingFilter(admin.SimpleListFilter):
    title = _("waiting")
    parameter_name = "waiting"

    def lookups(self, request, model_admin):
        return [
            ("undecided", _("no decision yet")),
            ("3", _("more than 3 days")),
            ("7", _("more than 7 days")),
        ]

    def queryset(self, request, queryset):
        undecided = queryset.with_decided().filter(status=Screening.Status.SUBMITTED, decided=False)
        if self.value() == "undecided":
            return undecided
        if self.value() in ("3", "7"):
            return undecided.filter(
                submitted_at__lt=timezone.now() - timedelta(days=int(self.value()))
            )
        return queryset


class DecisionForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Decision"), choices=Decision.Kind.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=_("Note"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
        help_text=_(
            "For 'not eligible' and 'more information needed', the client receives this note: write it for them."
        ),
    )


@admin.register(Screening)
class ScreeningAdmin(ClinicianReadAdminMixin, HealthDataAdminMixin, admin.ModelAdmin):
    clinic_lookup = "clinic"  # clinicians of the screening's clinic only
    list_display = [
        "client_name",
        "clinic",
        "outcome",
        "crisis_flag",
        "phq9_score",
        "gad7_score",
        "submitted_at",
        "waiting_days",
    ]
    list_filter = ["outcome", "crisis_flag", "status", WaitingFilter, "clinic"]
    list_select_related = ["course__client__user", "clinic"]
    ordering = ["-crisis_flag", "submitted_at"]  # flagged first, then the oldest waiting
    # The decisions are listed by the review itself, each with the
    # submission it was made on (selectors.screening_review).
    change_form_template = "admin/eligibility/screening/change_form.html"
    fields = ["status", "clinic", "screener_version", "rules_version", "submitted_at"]
    readonly_fields = fields
    # A clinician works the queue from the top: 25 rows is a screen or two,
    # and each row shown is an access-log entry and a rendered row.
    list_per_page = 25
    # "25 of 10,000" needs a second count of the whole queue on every
    # filtered view; the paginator's count is enough.
    show_full_result_count = False

    @admin.display(description=_("client"), ordering="course__client__user__last_name")
    def client_name(self, obj):
        return str(obj.course.client.user)

    @admin.display(description=_("waiting (days)"))
    def waiting_days(self, obj):
        if obj.submitted_at is None:
            return "—"
        return (timezone.now() - obj.submitted_at).days

    def client_of(self, obj):
        return obj.course.client

    def change_view(self, request, object_id, form_url="", extra_context=None):
        screening = self.get_object(request, object_id)
        if screening is not None and self.has_view_permission(request, screening):
            extra_context = {
                **(extra_context or {}),
                **selectors.screening_review(screening),
                "decision_form": DecisionForm(),
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        return [
            path(
                "<path:object_id>/decide/",
                self.admin_site.admin_view(self.decide_view),
                name="eligibility_screening_decide",
            ),
            *super().get_urls(),
        ]

    def decide_view(self, request, object_id):
        screening = self.get_object(request, object_id)  # None for a bad or foreign id
        if screening is None:
            raise Http404
        change_url = reverse("admin:eligibility_screening_change", args=[screening.pk])
        if request.method != "POST" or not self.has_view_permission(request, screening):
            return redirect(change_url)
        form = DecisionForm(request.POST)
        if form.is_valid():
            try:
                _decision, message = services.decision_record(
                    screening=screening,
                    clinician=request.user,
                    kind=form.cleaned_data["kind"],
                    note=form.cleaned_data["note"],
                )
            except services.ScreeningError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                self.message_user(request, message, messages.SUCCESS)
                return redirect(reverse("admin:eligibility_screening_changelist"))
        else:
            self.message_user(request, _("Choose a decision and write a note."), messages.ERROR)
        return TemplateResponse(
            request,
            "admin/eligibility/screening/decide_error.html",
            {
                **self.admin_site.each_context(request),
                "form": form,
                "original": screening,
                "opts": self.model._meta,
            },
        )
