"""The room board's forms: book (a dosing session or a series, a medical
assessment, a preparatory session), move, cancel. They read what the person
chose; the scheduling services decide."""

from datetime import datetime

from django import forms
from django.core import validators
from django.utils.translation import gettext_lazy as _

from clinic.models import AppointmentKind, Clinic, Course, Room, StaffRole, User

from ..models import DosingSettings
from ..selectors.board import BOOKABLE_STAGES, bookable_courses, clinic_rooms, clinic_staff
from ..services.scheduling import PREPARATION_MINUTES

LENGTHS = [
    (30, _("30 minutes")),
    (45, _("45 minutes")),
    (60, _("1 hour")),
    (90, _("1 hour 30")),
    (120, _("2 hours")),
]


def _bootstrap(form: forms.Form) -> None:
    """Bootstrap's classes on every visible field (the board renders them by hand)."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.HiddenInput):
            continue
        css = "form-select" if isinstance(widget, forms.Select) else "form-control"
        if css not in widget.attrs.get("class", ""):
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()


class _WhenForm(forms.Form):
    """A day and a time in the clinic's own zone."""

    date = forms.DateField(label=_("Day"), widget=forms.DateInput(attrs={"type": "date"}))
    time = forms.TimeField(
        label=_("Time"), widget=forms.TimeInput(attrs={"type": "time", "step": 900})
    )
    minutes = forms.TypedChoiceField(
        label=_("Length"),
        choices=LENGTHS,
        coerce=int,
        initial=PREPARATION_MINUTES,
        required=False,
        help_text=_("A dosing session lasts the clinic's session length."),
    )
    room = forms.ModelChoiceField(
        label=_("Room"),
        queryset=Room.objects.none(),
        required=False,
        empty_label=_("No room (by phone or video)"),
    )
    therapist = forms.ModelChoiceField(
        label=_("Therapist"), queryset=User.objects.none(), required=False
    )
    practitioner = forms.ModelChoiceField(
        label=_("Medical practitioner"), queryset=User.objects.none(), required=False
    )

    def __init__(self, *args, clinic: Clinic, **kwargs):
        super().__init__(*args, **kwargs)
        self.clinic = clinic
        self.fields["room"].queryset = clinic_rooms(clinic=clinic)
        self.fields["therapist"].queryset = clinic_staff(clinic=clinic, role=StaffRole.THERAPIST)
        self.fields["practitioner"].queryset = clinic_staff(
            clinic=clinic, role=StaffRole.MEDICAL_PRACTITIONER
        )
        self.fields["room"].label_from_instance = lambda room: room.name
        for name in ("therapist", "practitioner"):
            self.fields[name].empty_label = _("Choose…")
            self.fields[name].label_from_instance = lambda user: user.get_full_name() or user.email
        _bootstrap(self)

    def start(self) -> datetime | None:
        """The moment chosen, in the clinic's zone (None until both are valid)."""
        data = getattr(self, "cleaned_data", {})
        if data.get("date") is None or data.get("time") is None:
            return None
        return datetime.combine(data["date"], data["time"], tzinfo=self.clinic.zone)

    def length(self) -> int:
        return self.cleaned_data.get("minutes") or PREPARATION_MINUTES


class BookingForm(_WhenForm):
    """A new booking from the board: the kind, then what that kind needs."""

    kind = forms.ChoiceField(
        label=_("Kind of appointment"),
        choices=[(kind, AppointmentKind(kind).label) for kind in BOOKABLE_STAGES],
        initial=AppointmentKind.DOSING_SESSION,
    )
    q = forms.CharField(label=_("Search for a client"), required=False, max_length=100)
    client = forms.ModelChoiceField(
        label=_("Client"),
        queryset=Course.objects.none(),
        to_field_name="uuid",
        error_messages={
            "required": _("Choose a client."),
            "invalid_choice": _(
                "This client cannot have this kind of appointment at their stage. Choose another."
            ),
        },
    )
    sessions = forms.IntegerField(
        label=_("Sessions to book from this time"), min_value=1, initial=1, required=False
    )
    every_days = forms.IntegerField(label=_("Days between sessions"), required=False)

    field_order = [
        "kind",
        "room",
        "date",
        "time",
        "minutes",
        "q",
        "client",
        "therapist",
        "practitioner",
        "sessions",
        "every_days",
    ]

    def __init__(self, *args, clinic: Clinic, settings: DosingSettings, **kwargs):
        super().__init__(*args, clinic=clinic, **kwargs)
        self.settings = settings
        kind = self.kind_asked()
        self.fields["client"].queryset = bookable_courses(clinic=clinic, kind=kind)
        self.fields["client"].label_from_instance = lambda course: str(course.client)
        sessions = self.fields["sessions"]
        sessions.max_value = settings.max_series_sessions
        sessions.widget.attrs.update({"min": 1, "max": settings.max_series_sessions})
        sessions.help_text = _(
            "The first booking for a client plans their series: as many sessions as booked, "
            "%(max)s at most. A later one fills a cancelled place or adds a session."
        ) % {"max": settings.max_series_sessions}
        every = self.fields["every_days"]
        every.initial = settings.min_days_between_sessions
        every.min_value = settings.min_days_between_sessions
        every.max_value = 60
        every.widget.attrs.update({"min": settings.min_days_between_sessions, "max": 60})
        every.help_text = _("At least %(min)s days, at the same time of day.") % {
            "min": settings.min_days_between_sessions
        }
        # Validators follow min_value and max_value as set at construction.
        sessions.validators = [
            validators.MinValueValidator(1),
            validators.MaxValueValidator(settings.max_series_sessions),
        ]
        every.validators = [
            validators.MinValueValidator(settings.min_days_between_sessions),
            validators.MaxValueValidator(60),
        ]
        _bootstrap(self)

    def kind_asked(self) -> str:
        kind = (self.data.get("kind") if self.is_bound else None) or self.initial.get("kind")
        return kind if kind in BOOKABLE_STAGES else AppointmentKind.DOSING_SESSION

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        # A field the chosen kind does not use is ignored, whatever it holds
        # (it may be hidden, still filled from another kind).
        if kind == AppointmentKind.MEDICAL_ASSESSMENT:
            data["therapist"] = None
        if kind == AppointmentKind.PREPARATORY_SESSION:
            data["practitioner"] = None
        if kind != AppointmentKind.DOSING_SESSION:
            data["sessions"], data["every_days"] = 1, None
        else:
            data["sessions"] = data.get("sessions") or 1
            data["every_days"] = data.get("every_days") or self.settings.min_days_between_sessions
        return data


class MoveForm(_WhenForm):
    """Another time, room or team for a booking; `version` is the one the
    person saw, so a move over someone else's change is refused."""

    version = forms.IntegerField(widget=forms.HiddenInput)


class CancelForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
