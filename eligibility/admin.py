"""Clinician review of screenings in the Django admin. Only therapists and
medical practitioners of the screening's clinic see it; each view of a
screening is written to the access log."""

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format, time_format
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from clinic.admin import CappedPaginator, ClinicianReadAdminMixin, HealthDataAdminMixin
from clinic.selectors import staff_clinic_ids

from . import selectors, services
from .models import Decision, Screening
from .questionnaires import GAD7, PHQ9


def _score(questionnaire, score) -> str:
    if score is None:
        return "—"
    return format_html(
        '{}<br><span class="muted">{}</span>', score, questionnaire.band(score).label
    )


class WaitingFilter(admin.SimpleListFilter):
    """The queue opens on what waits for a clinician: sent, no decision on
    the answers as last sent. "All" shows every screening."""

    title = _("decision")
    parameter_name = "waiting"
    DEFAULT = "undecided"

    def lookups(self, request, model_admin):
        return [
            ("undecided", _("waiting for a decision")),
            ("3", _("waiting more than 3 days")),
            ("7", _("waiting more than 7 days")),
            ("decided", _("decided")),
            ("all", _("all")),
        ]

    def value(self):
        return super().value() or self.DEFAULT

    def choices(self, changelist):
        for value, label in self.lookup_choices:
            yield {
                "selected": self.value() == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request, queryset):
        value = self.value()
        if value == "all":
            return queryset
        if value == "decided":
            return queryset.filter(decided=True)
        undecided = queryset.filter(status=Screening.Status.SUBMITTED, decided=False)
        if value in ("3", "7"):
            return undecided.filter(submitted_at__lt=timezone.now() - timedelta(days=int(value)))
        return undecided


class QueuePaginator(CappedPaginator):
    """Counts the queue up to CAP screenings: counting all of it reads every
    waiting row, so its cost would grow with the clinic. Twenty pages is more
    than a clinician works from the top; past it the page says "more than"."""

    CAP = 500

    @cached_property
    def count(self):
        # Any CAP rows will do for a count: without the queue's order, a
        # clinician of several clinics is counted without sorting their queues.
        return self.object_list.order_by()[: self.CAP].count()

    @property
    def capped(self) -> bool:
        return self.count >= self.CAP


class DecisionForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Decision"), choices=Decision.Kind.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=_("Note"),
        widget=forms.Textarea(attrs={"rows": 4, "aria-describedby": "note-help"}),
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
        "risk",
        "outcome",
        "phq9_display",
        "gad7_display",
        "submitted_local",
        "waiting_days",
        "decision_display",
    ]
    list_display_links = ["client_name"]
    list_filter = [WaitingFilter, "crisis_flag", "outcome", "clinic"]
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
    # filtered view; the paginator's count is enough, and it is capped.
    show_full_result_count = False
    paginator = QueuePaginator

    def get_queryset(self, request):
        # The decision columns come with the rows: one query for the page.
        return super().get_queryset(request).with_decision_state()

    def get_list_display(self, request):
        # The clinic column only for someone who works in more than one.
        if len(staff_clinic_ids(user=request.user)) > 1:
            return [*self.list_display[:1], "clinic", *self.list_display[1:]]
        return self.list_display

    @admin.display(description=_("client"), ordering="course__client__user__last_name")
    def client_name(self, obj):
        return str(obj.course.client.user)

    @admin.display(description=_("risk"), ordering="-crisis_flag")
    def risk(self, obj):
        # A warning, never a tick: a risk answer is not a success.
        if obj.crisis_flag:
            return format_html(
                '<span class="badge badge-risk"><span aria-hidden="true">⚠</span> {}</span>',
                _("self-harm"),
            )
        return format_html('<span class="muted">{}</span>', _("none"))

    @admin.display(description="PHQ-9", ordering="phq9_score")
    def phq9_display(self, obj):
        return _score(PHQ9, obj.phq9_score)

    @admin.display(description="GAD-7", ordering="gad7_score")
    def gad7_display(self, obj):
        return _score(GAD7, obj.gad7_score)

    @admin.display(description=_("sent"), ordering="submitted_at")
    def submitted_local(self, obj):
        if obj.submitted_at is None:
            return "—"
        local = timezone.localtime(obj.submitted_at, obj.clinic.zone)
        return format_html(
            '{}<br><span class="muted">{}</span>',
            date_format(local, "SHORT_DATE_FORMAT"),
            time_format(local, "TIME_FORMAT"),
        )

    @admin.display(description=_("waiting (days)"))
    def waiting_days(self, obj):
        if obj.submitted_at is None or getattr(obj, "decided", False):
            return "—"
        return (timezone.now() - obj.submitted_at).days

    @admin.display(description=_("decision"))
    def decision_display(self, obj):
        if obj.status == Screening.Status.DRAFT:
            if obj.decision_kind == Decision.Kind.MORE_INFORMATION:
                return format_html(
                    '<span class="badge badge-attention">{}</span>', _("more information asked")
                )
            return format_html('<span class="muted">{}</span>', _("not sent yet"))
        if obj.decided:
            day = date_format(
                timezone.localtime(obj.decision_at, obj.clinic.zone), "SHORT_DATE_FORMAT"
            )
            return format_html(
                '<span class="badge badge-done">{}</span> <span class="muted">{}</span>',
                Decision.Kind(obj.decision_kind).label,
                day,
            )
        return format_html(
            '<span class="badge badge-waiting">{}</span>', pgettext("decision", "waiting")
        )

    def client_of(self, obj):
        return obj.course.client

    def change_view(self, request, object_id, form_url="", extra_context=None):
        screening = self.get_object(request, object_id)
        if screening is not None and self.has_view_permission(request, screening):
            extra_context = {
                **(extra_context or {}),
                **selectors.screening_review(screening),
                "decision_form": (extra_context or {}).get("decision_form") or DecisionForm(),
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
        # The review again, with what was typed and why it was refused: the
        # note a clinician wrote is never lost to a missing choice. Shown as
        # a read (GET) of the screening, logged as one.
        request.method = "GET"
        return self.change_view(request, object_id, extra_context={"decision_form": form})
