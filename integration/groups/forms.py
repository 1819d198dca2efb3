"""Forms of integration groups: what the coordinator, the facilitator or
the client chose. The services decide."""

from datetime import datetime, time, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinic.models import Clinic, Language, Room, StaffRole, Stage, User

from .models import JOINABLE_STAGES, Attendance, IntegrationGroup
from .recurrence import MAX_MEETINGS, RecurrenceError, occurrences, weekly_rule
from .services import Schedule


class Ends(models.TextChoices):
    AFTER = "after", _("after a number of meetings")
    ON = "on", _("on a date")
    NEVER = "never", _("never")


STAGE_CHOICES = [(s.value, s.label) for s in JOINABLE_STAGES]


def _people(clinic: Clinic):
    return (
        User.objects.filter(
            is_active=True, staff_profile__role=StaffRole.THERAPIST, staff_profile__clinics=clinic
        )
        .order_by("last_name", "first_name", "pk")
        .distinct()
    )


class GroupDetailsForm(forms.Form):
    """What a group is and who may join (changeable after it is scheduled)."""

    name_en = forms.CharField(label=_("Name in English"), max_length=120)
    name_fr = forms.CharField(label=_("Name in French"), max_length=120)
    theme_en = forms.CharField(
        label=_("Theme in English"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    theme_fr = forms.CharField(
        label=_("Theme in French"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    language = forms.ChoiceField(label=_("Language spoken"), choices=Language.choices)
    capacity = forms.IntegerField(label=_("Places"), min_value=1, max_value=200)
    video_link = forms.URLField(
        label=_("Video link"),
        required=False,
        assume_scheme="https",
        help_text=_("For a group that meets by video, or in a room and by video."),
    )
    allowed_stages = forms.MultipleChoiceField(
        label=_("Stages that may join"),
        choices=STAGE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        initial=[Stage.INTEGRATE.value, Stage.RECONNECT.value],
    )
    other_clinics_may_join = forms.BooleanField(
        label=_("Clients of the other clinics may join (a video group)"), required=False
    )


class GroupEditForm(GroupDetailsForm):
    is_open = forms.BooleanField(label=_("Open for enrolment"), required=False)

    @classmethod
    def for_group(cls, group: IntegrationGroup, data=None):
        initial = {
            name: getattr(group, name)
            for name in (
                "name_en",
                "name_fr",
                "theme_en",
                "theme_fr",
                "language",
                "capacity",
                "video_link",
                "allowed_stages",
                "other_clinics_may_join",
                "is_open",
            )
        }
        form = cls(data=data, initial=initial)
        form.group = group
        return form

    def clean(self):
        data = super().clean()
        if not self.group.room_id and not data.get("video_link"):
            self.add_error("video_link", _("A group without a room needs a video link."))
        return data

    def changes(self) -> dict:
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if self.initial.get(name) != value
        }


class GroupCreateForm(GroupDetailsForm):
    """A new group and its schedule: a first meeting, its times, how often,
    and when the series ends (never is refused)."""

    facilitators = forms.ModelMultipleChoiceField(
        label=_("Facilitators"), queryset=User.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    room = forms.ModelChoiceField(
        label=_("Room"),
        queryset=Room.objects.none(),
        required=False,
        empty_label=_("No room (video only)"),
    )
    first_day = forms.DateField(
        label=_("First meeting"), widget=forms.DateInput(attrs={"type": "date"})
    )
    starts_at = forms.TimeField(
        label=_("Starts at"), widget=forms.TimeInput(attrs={"type": "time", "step": 900})
    )
    ends_at = forms.TimeField(
        label=_("Ends at"), widget=forms.TimeInput(attrs={"type": "time", "step": 900})
    )
    interval = forms.TypedChoiceField(
        label=_("Meets"),
        coerce=int,
        choices=[(1, _("every week")), (2, _("every two weeks")), (4, _("every four weeks"))],
        initial=1,
    )
    ends = forms.ChoiceField(label=_("The series ends"), choices=Ends.choices, initial=Ends.AFTER)
    count = forms.IntegerField(
        label=_("Number of meetings"),
        min_value=1,
        required=False,
        initial=8,
        help_text=_("At most %(max)s.") % {"max": MAX_MEETINGS},
    )
    until = forms.DateField(
        label=_("Last date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, clinic: Clinic, **kwargs):
        super().__init__(*args, **kwargs)
        self.clinic = clinic
        self.fields["facilitators"].queryset = _people(clinic)
        self.fields["facilitators"].label_from_instance = lambda u: u.get_full_name() or u.email
        self.fields["room"].queryset = Room.objects.filter(clinic=clinic, is_active=True).order_by(
            "name"
        )
        self.fields["room"].label_from_instance = lambda room: room.name

    def clean(self):
        data = super().clean()
        if not data.get("room") and not data.get("video_link"):
            self.add_error("room", _("Choose a room, or give a video link."))
        first_day = data.get("first_day")
        if first_day is not None:
            today = timezone.localdate(timezone=self.clinic.zone)
            if first_day < today:
                self.add_error("first_day", _("The first meeting cannot be in the past."))
            elif first_day > today + timedelta(days=730):
                self.add_error("first_day", _("The first meeting must be within two years."))
        ends = data.get("ends")
        if ends == Ends.NEVER:
            self.add_error(
                "ends", _("A group's schedule must end: give a number of meetings or a last date.")
            )
        elif ends == Ends.AFTER and not data.get("count"):
            self.add_error("count", _("How many meetings?"))
        elif ends == Ends.ON and not data.get("until"):
            self.add_error("until", _("Which last date?"))
        if self.errors:
            return data
        schedule = self.schedule()
        try:
            occurrences(
                rule=schedule.rule,
                first_day=schedule.first_day,
                starts_at=schedule.starts_at,
                ends_at=schedule.ends_at,
                zone=self.clinic.zone,
            )
        except RecurrenceError as exc:
            raise ValidationError(str(exc)) from exc
        return data

    def schedule(self) -> Schedule:
        data = self.cleaned_data
        if data["ends"] == Ends.AFTER:
            rule = weekly_rule(interval=data["interval"], count=data["count"])
        else:
            rule = weekly_rule(interval=data["interval"], until=data["until"])
        return Schedule(
            rule=rule,
            first_day=data["first_day"],
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
        )


class MeetingMoveForm(forms.Form):
    day = forms.DateField(label=_("Day"), widget=forms.DateInput(attrs={"type": "date"}))
    starts_at = forms.TimeField(
        label=_("Starts at"), widget=forms.TimeInput(attrs={"type": "time", "step": 900})
    )
    ends_at = forms.TimeField(
        label=_("Ends at"), widget=forms.TimeInput(attrs={"type": "time", "step": 900})
    )

    def __init__(self, *args, clinic: Clinic, **kwargs):
        super().__init__(*args, **kwargs)
        self.clinic = clinic

    def clean(self):
        data = super().clean()
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", _("A meeting must end after it starts."))
        day = data.get("day")
        if day and day < timezone.localdate(timezone=self.clinic.zone):
            self.add_error("day", _("A meeting cannot be moved into the past."))
        return data

    def span(self) -> tuple[datetime, datetime]:
        data = self.cleaned_data
        zone = self.clinic.zone
        return (
            datetime.combine(data["day"], data["starts_at"], tzinfo=zone),
            datetime.combine(data["day"], data["ends_at"], tzinfo=zone),
        )


def meeting_initial(start: datetime, end: datetime) -> dict:
    return {"day": start.date(), "starts_at": start.time(), "ends_at": time(end.hour, end.minute)}


class AttendanceForm(forms.Form):
    """One radio group per client on the sheet: present, absent or excused."""

    def __init__(self, *args, rows, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = rows
        for row in rows:
            self.fields[f"e{row.enrolment.pk}"] = forms.ChoiceField(
                label=row.enrolment.client.user.get_full_name() or row.enrolment.client.user.email,
                choices=Attendance.Mark.choices,
                widget=forms.RadioSelect,
                initial=row.mark or None,
                required=False,
            )

    def marks(self) -> dict[int, str]:
        return {int(name[1:]): value for name, value in self.cleaned_data.items() if value}

    def bound_rows(self):
        return [(row, self[f"e{row.enrolment.pk}"]) for row in self.rows]
