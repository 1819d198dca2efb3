"""Versions of the screener: the steps and their forms. Changing a question
means a new version; a screening keeps the version it was filled in with."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from . import forms


@dataclass(frozen=True)
class Step:
    slug: str
    title: str
    form: type


SCREENERS = {
    1: (
        Step("about", _("About you"), forms.AboutForm),
        Step("pregnancy", _("Pregnancy"), forms.PregnancyForm),
        Step("mental-health", _("Mental health history"), forms.MentalHealthForm),
        Step("physical-health", _("Physical health"), forms.PhysicalHealthForm),
        Step("medications", _("Medications"), forms.MedicationsForm),
        Step("substances", _("Alcohol and substances"), forms.SubstancesForm),
        Step("history", _("What brings you here"), forms.HistoryForm),
        Step("phq9", _("Mood (PHQ-9)"), forms.PHQ9Form),
        Step("gad7", _("Anxiety (GAD-7)"), forms.GAD7Form),
        Step("safety", _("Your safety"), forms.SafetyForm),
    ),
}
CURRENT = 1


def steps(version: int) -> tuple[Step, ...]:
    return SCREENERS[version]


def step_by_slug(version: int, slug: str) -> Step | None:
    return next((s for s in steps(version) if s.slug == slug), None)


def initial_for(step: Step, answers: dict) -> dict:
    """The draft's answers as the step's form expects them back."""
    form = step.form
    if hasattr(form, "questionnaire"):
        values = answers.get(form.questionnaire.code) or []
        return {f"item_{i + 1}": v for i, v in enumerate(values)}
    return {name: answers[name] for name in form.base_fields if name in answers}


def missing_steps(version: int, answers: dict) -> list[Step]:
    """The steps whose answers are not all in the draft."""
    missing = []
    for step in steps(version):
        form = step.form(data=None)
        if hasattr(step.form, "questionnaire"):
            if len(answers.get(step.form.questionnaire.code) or []) != len(
                step.form.questionnaire.items
            ):
                missing.append(step)
            continue
        never_sent = not any(
            name in answers for name in form.fields
        )  # a step of optional questions too
        if never_sent or any(
            field.required and name not in answers for name, field in form.fields.items()
        ):
            missing.append(step)
    return missing


# A complete set of answers that meets every criterion (demo data, tests).
EXAMPLE_ANSWERS = {
    "date_of_birth": "1985-04-23",
    "province": "QC",
    "pregnant": "not_applicable",
    "nursing": "not_applicable",
    "psychosis": "no",
    "mania": "no",
    "hypertension": "no",
    "heart_disease": "no",
    "stroke": "no",
    "seizures": "no",
    "liver_disease": "no",
    "thyroid": "no",
    "other_conditions": "",
    "medication_classes": [],
    "medications_text": "",
    "alcohol": "monthly",
    "cannabis": "never",
    "other_substances": "",
    "primary_concern": "depression",
    "antidepressants_tried": "3",
    "psychotherapy_before": "yes",
    "phq9": [2, 2, 1, 2, 1, 1, 1, 0, 0],
    "gad7": [1, 1, 1, 0, 0, 1, 0],
    "safety_now": "no",
}
