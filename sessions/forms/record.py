"""The session record's forms. Each carries a one-time `submission` token
(the same form sent twice records once) and checks what it can on its own;
the services check everything again, with the rows locked."""

import uuid

from django import forms
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from clinic.models import Appointment

from ..models import AdverseEvent, Route, VitalsReading
from ..services.record import MSG_CHECKLIST_INCOMPLETE, dose_problem, vitals_problems

LOCAL_INPUT = "%Y-%m-%dT%H:%M"


def text_area(label, *, required=True, rows=3, help_text=""):
    return forms.CharField(
        label=label,
        required=required,
        max_length=5000,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


class RecordForm(forms.Form):
    submission = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("submission", uuid.uuid4())


class CorrectionMixin(forms.Form):
    correction_reason = text_area(_("Why it is corrected"), rows=2)


def whole_number(label):
    return forms.IntegerField(
        label=label, widget=forms.NumberInput(attrs={"inputmode": "numeric", "step": 1})
    )


class VitalsValues(forms.Form):
    systolic = whole_number(_("Systolic (mmHg)"))
    diastolic = whole_number(_("Diastolic (mmHg)"))
    heart_rate = whole_number(_("Heart rate (per minute)"))
    spo2 = whole_number(_("SpO₂ (%)"))

    def clean(self):
        data = super().clean()
        names = ("systolic", "diastolic", "heart_rate", "spo2")
        if all(data.get(name) is not None for name in names):
            for name, message in vitals_problems(**{n: data[n] for n in names}).items():
                self.add_error(name, message)
        return data


class VitalsForm(RecordForm, VitalsValues):
    moment = forms.ChoiceField(
        label=_("When"), choices=VitalsReading.Moment.choices, widget=forms.RadioSelect
    )
    field_order = ["moment", "systolic", "diastolic", "heart_rate", "spo2"]


class VitalsCorrectionForm(RecordForm, VitalsValues, CorrectionMixin):
    pass


class ConfirmForm(RecordForm):
    reading = forms.IntegerField(widget=forms.HiddenInput)
    reason = text_area(
        _("Why the dose may be given"),
        help_text=_("Your confirmation holds for this reading only."),
    )


class LocalDateTimeField(forms.DateTimeField):
    """A date and time typed in the clinic's own zone (whatever the server's)."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_INPUT)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("input_formats", [LOCAL_INPUT, "%Y-%m-%d %H:%M"])
        super().__init__(*args, **kwargs)
        self.zone = None

    def to_python(self, value):
        with timezone.override(self.zone or timezone.get_current_timezone()):
            return super().to_python(value)


class DoseField(forms.DecimalField):
    def __init__(self, **kwargs):
        super().__init__(
            widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}), **kwargs
        )


class AdministrationValues(forms.Form):
    given_at = LocalDateTimeField(label=_("Given at (clinic time)"))
    route = forms.ChoiceField(label=_("Route"), choices=Route.choices, widget=forms.RadioSelect)
    dose_mg = DoseField(label=_("Dose given (mg)"))
    differs_reason = text_area(
        _("Why it differs from the dose plan"),
        required=False,
        rows=2,
        help_text=_("Only when the route or the dose differs from the plan."),
    )

    def __init__(self, *args, zone=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["given_at"].zone = zone
        if not self.is_bound and "given_at" not in self.initial:
            now = timezone.localtime(timezone.now(), zone) if zone else timezone.now()
            self.initial["given_at"] = now.strftime(LOCAL_INPUT)

    def clean_dose_mg(self):
        dose = self.cleaned_data["dose_mg"]
        problem = dose_problem(dose)
        if problem:
            raise forms.ValidationError(problem)
        return dose


class AdministrationForm(RecordForm, AdministrationValues):
    pass


class AdministrationCorrectionForm(RecordForm, AdministrationValues, CorrectionMixin):
    pass


class AdverseEventValues(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=AdverseEvent.Kind.choices)
    severity = forms.ChoiceField(
        label=_("Severity"), choices=AdverseEvent.Severity.choices, widget=forms.RadioSelect
    )
    description = text_area(_("What happened"), required=False, rows=2)
    action_taken = text_area(_("Action taken"), rows=2)


class AdverseEventForm(RecordForm, AdverseEventValues):
    pass


class AdverseEventCorrectionForm(RecordForm, AdverseEventValues, CorrectionMixin):
    pass


class NoteValues(forms.Form):
    text = text_area(_("Note"), rows=4)


class NoteForm(RecordForm, NoteValues):
    pass


class NoteCorrectionForm(RecordForm, NoteValues, CorrectionMixin):
    pass


class DeferForm(RecordForm):
    reason = text_area(_("Why the session is deferred"), rows=2)


class DischargeForm(RecordForm):
    # Not required one by one: an unticked item gets the checklist's own message.
    alert_and_oriented = forms.BooleanField(label=_("Alert and oriented"), required=False)
    vitals_in_range = forms.BooleanField(label=_("Vitals back within range"), required=False)
    escort_or_ride = forms.BooleanField(label=_("Escort present or ride confirmed"), required=False)
    no_driving_acknowledged = forms.BooleanField(
        label=_("No driving until the next day: instruction acknowledged"), required=False
    )
    note = text_area(_("Note"), required=False, rows=2)

    CHECKLIST = (
        "alert_and_oriented",
        "vitals_in_range",
        "escort_or_ride",
        "no_driving_acknowledged",
    )

    def clean(self):
        data = super().clean()
        if not all(data.get(name) for name in self.CHECKLIST):
            raise forms.ValidationError(gettext(MSG_CHECKLIST_INCOMPLETE))
        return data


CORRECTION_FORMS = {
    "vitals": VitalsCorrectionForm,
    "administration": AdministrationCorrectionForm,
    "adverse_event": AdverseEventCorrectionForm,
    "note": NoteCorrectionForm,
}


def correction_initial(kind: str, entry, zone) -> dict:
    """A correction form starts from the values it corrects."""
    if kind == "vitals":
        names = ["systolic", "diastolic", "heart_rate", "spo2"]
    elif kind == "administration":
        names = ["route", "dose_mg", "differs_reason"]
    elif kind == "adverse_event":
        names = ["kind", "severity", "description", "action_taken"]
    else:
        names = ["text"]
    initial = {name: getattr(entry, name) for name in names}
    if kind == "administration":
        initial["given_at"] = timezone.localtime(entry.given_at, zone).strftime(LOCAL_INPUT)
    return initial


# --- The course's record ------------------------------------------------------------------------


class DosePlanForm(RecordForm):
    route = forms.ChoiceField(label=_("Route"), choices=Route.choices, widget=forms.RadioSelect)
    dose_mg = DoseField(label=_("Dose (mg)"))
    notes = text_area(_("Notes"), required=False, rows=2)
    seen = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def clean_dose_mg(self):
        dose = self.cleaned_data["dose_mg"]
        problem = dose_problem(dose)
        if problem:
            raise forms.ValidationError(problem)
        return dose


class MarkForm(forms.Form):
    status = forms.ChoiceField(
        label=_("It"),
        choices=[
            (Appointment.Status.HELD, _("took place")),
            (Appointment.Status.NO_SHOW, _("did not take place: the client did not come")),
        ],
        widget=forms.RadioSelect,
    )
    was = forms.ChoiceField(widget=forms.HiddenInput, choices=Appointment.Status.choices)


class SignOffForm(RecordForm):
    corrects = forms.IntegerField(widget=forms.HiddenInput, required=False)
    cleared = forms.TypedChoiceField(
        label=_("Conclusion"),
        choices=[("yes", _("Cleared for dosing")), ("no", _("Not cleared for dosing"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    note = text_area(_("Note"))
    reason = text_area(
        _("Why the conclusion is corrected"),
        required=False,
        rows=2,
        help_text=_("Only when you correct an earlier conclusion."),
    )


class SeriesEndForm(forms.Form):
    reason = text_area(_("Why the series ends early"), rows=2)
