"""The screener's steps, one form each. Every answer is stored as JSON in the
screening's draft, so a form's cleaned data must be plain values."""

from datetime import date

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinic.models import Concern, Province

from .questionnaires import ANSWER_CHOICES, GAD7, PHQ9

NO = ("no", _("No"))
UNSURE = ("unsure", _("I am not sure"))
NOT_APPLICABLE = ("not_applicable", _("Does not apply to me"))
YES_NO = [NO, ("yes", _("Yes"))]
YES_NO_UNSURE = [*YES_NO, UNSURE]
FREQUENCY = [
    ("never", _("Never")),
    ("monthly", _("Monthly or less")),
    ("weekly", _("Weekly")),
    ("daily", _("Daily or almost daily")),
]


def radio(label, choices, help_text=""):
    return forms.ChoiceField(
        label=label, choices=choices, widget=forms.RadioSelect, help_text=help_text
    )


class ScreenerStep(forms.Form):
    def answers(self) -> dict:
        return {
            k: (v.isoformat() if isinstance(v, date) else v) for k, v in self.cleaned_data.items()
        }


class AboutForm(ScreenerStep):
    date_of_birth = forms.DateField(
        label=_("Date of birth"),
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}),
        error_messages={"invalid": _("Enter a real date, for example 1985-04-23.")},
    )
    province = radio(_("Province where you live"), Province.choices)

    def clean_date_of_birth(self):
        born = self.cleaned_data["date_of_birth"]
        today = timezone.localdate()
        if born > today:
            raise forms.ValidationError(_("The date of birth cannot be in the future."))
        if born < date(today.year - 120, 1, 1):
            raise forms.ValidationError(_("Please check the year of your date of birth."))
        return born


class PregnancyForm(ScreenerStep):
    pregnant = radio(_("Are you pregnant, or could you be?"), [*YES_NO_UNSURE, NOT_APPLICABLE])
    nursing = radio(_("Are you breastfeeding?"), [*YES_NO, NOT_APPLICABLE])


class MentalHealthForm(ScreenerStep):
    psychosis = radio(
        _("Have you ever had psychosis, or seen or heard things others did not (hallucinations)?"),
        YES_NO,
    )
    mania = radio(_("Have you ever had mania, or been told you have bipolar disorder?"), YES_NO)


class PhysicalHealthForm(ScreenerStep):
    hypertension = radio(
        _("Do you have high blood pressure?"),
        [
            NO,
            ("treated", _("Yes, treated and under control")),
            ("untreated", _("Yes, not treated or not under control")),
            UNSURE,
        ],
    )
    heart_disease = radio(_("Do you have heart disease?"), YES_NO)
    stroke = radio(_("Have you ever had a stroke?"), YES_NO)
    seizures = radio(_("Have you ever had seizures (epilepsy or convulsions)?"), YES_NO)
    liver_disease = radio(
        _("Do you have liver disease?"),
        [NO, ("mild", _("Yes, mild")), ("severe", _("Yes, severe")), UNSURE],
    )
    thyroid = radio(
        _("Do you have a thyroid condition?"),
        [NO, ("treated", _("Yes, treated")), ("untreated", _("Yes, not treated"))],
    )
    other_conditions = forms.CharField(
        label=_("Any other medical condition we should know about?"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


MEDICATION_CLASSES = [
    ("ssri_snri", _("Antidepressants (for example SSRIs or SNRIs)")),
    ("maoi", _("MAO inhibitors")),
    ("benzodiazepines", _("Benzodiazepines (for example lorazepam, clonazepam)")),
    ("lamotrigine", _("Lamotrigine")),
    ("stimulants", _("Stimulants (for example for ADHD)")),
    ("antipsychotics", _("Antipsychotics")),
    ("opioids", _("Opioids")),
]


class MedicationsForm(ScreenerStep):
    medication_classes = forms.MultipleChoiceField(
        label=_("Do you take any of these?"),
        choices=MEDICATION_CLASSES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Tick all that apply; leave empty if none."),
    )
    medications_text = forms.CharField(
        label=_("All the medications you take, with their doses if you know them"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class SubstancesForm(ScreenerStep):
    alcohol = radio(_("How often do you drink alcohol?"), FREQUENCY)
    cannabis = radio(_("How often do you use cannabis?"), FREQUENCY)
    other_substances = forms.CharField(
        label=_("Other substances you use, and how often"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class HistoryForm(ScreenerStep):
    primary_concern = radio(_("What would you most like help with?"), Concern.choices)
    antidepressants_tried = radio(
        _("How many antidepressants have you tried?"),
        [("0", "0"), ("1", "1"), ("2", "2"), ("3", _("3 or more"))],
    )
    psychotherapy_before = radio(_("Have you had psychotherapy before?"), YES_NO)


def _questionnaire_form(questionnaire, name):
    fields = {
        f"item_{i + 1}": forms.TypedChoiceField(
            label=item, choices=ANSWER_CHOICES, coerce=int, widget=forms.RadioSelect
        )
        for i, item in enumerate(questionnaire.items)
    }

    def answers(self) -> dict:
        return {
            questionnaire.code: [
                self.cleaned_data[f"item_{i + 1}"] for i in range(len(questionnaire.items))
            ]
        }

    return type(
        name, (ScreenerStep,), {**fields, "answers": answers, "questionnaire": questionnaire}
    )


PHQ9Form = _questionnaire_form(PHQ9, "PHQ9Form")
GAD7Form = _questionnaire_form(GAD7, "GAD7Form")


class SafetyForm(ScreenerStep):
    safety_now = radio(
        _("Right now, are you having thoughts of ending your life or of harming yourself?"),
        YES_NO,
        help_text=_("Your answer goes to our clinical team. If you are in danger now, call 911."),
    )
