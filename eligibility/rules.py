"""The clinic's published eligibility criteria as plain, versioned rules.

A screening is scored with the rule set of its version and keeps that
version, so an old screening stays explainable after the rules change: to
change a rule, add a new version below and make it CURRENT; never edit a
version that screenings have used.

Each rule reads the answers and says whether it applies; the outcome is the
most serious level among the rules that apply, with every reason kept as a
code. The sentences are for the client, in kind words.
"""

from dataclasses import dataclass
from datetime import date
from enum import IntEnum

from django.utils.translation import gettext_lazy as _

from clinic.formatting import age_on  # noqa: F401  (the rules' and the review's age)
from clinic.models import CONCERNS_UNDER_DEVELOPMENT

from .questionnaires import PHQ9_SAFETY_ITEM


class Level(IntEnum):
    LIKELY_ELIGIBLE = 0
    NEEDS_REVIEW = 1
    NOT_ELIGIBLE = 2


OUTCOME_CODES = {
    Level.LIKELY_ELIGIBLE: "likely_eligible",
    Level.NEEDS_REVIEW: "needs_review",
    Level.NOT_ELIGIBLE: "not_eligible",
}


@dataclass(frozen=True)
class Context:
    minimum_age: int
    on: date  # the day the screening is scored, in the clinic's time zone


@dataclass(frozen=True)
class Rule:
    code: str
    level: Level
    applies: object  # Callable[[dict, Context], bool]
    message: str


@dataclass(frozen=True)
class Outcome:
    level: Level
    reasons: tuple[str, ...]

    @property
    def code(self) -> str:
        return OUTCOME_CODES[self.level]


def _yes(key):
    return lambda a, c: a.get(key) == "yes"


def _is(key, *values):
    return lambda a, c: a.get(key) in values


def _under_age(a, c) -> bool:
    born = a.get("date_of_birth")
    if not born:
        return False
    return age_on(date.fromisoformat(born), c.on) < c.minimum_age


def _crisis(a, c) -> bool:
    phq9 = a.get("phq9") or []
    return a.get("safety_now") == "yes" or (
        len(phq9) > PHQ9_SAFETY_ITEM and phq9[PHQ9_SAFETY_ITEM] > 0
    )


RULES_2026_1 = (
    # Not eligible at present.
    Rule(
        "under_minimum_age",
        Level.NOT_ELIGIBLE,
        _under_age,
        _(
            "The program is open to adults from the minimum age in your province (18 in Quebec, 19 in British Columbia)."
        ),
    ),
    Rule(
        "pregnant",
        Level.NOT_ELIGIBLE,
        _is("pregnant", "yes"),
        _(
            "Ketamine's effects during pregnancy are not known, so the program cannot be offered while you are pregnant."
        ),
    ),
    Rule(
        "nursing",
        Level.NOT_ELIGIBLE,
        _yes("nursing"),
        _(
            "Ketamine's effects while nursing are not known, so the program cannot be offered while you are breastfeeding."
        ),
    ),
    Rule(
        "concern_under_development",
        Level.NOT_ELIGIBLE,
        lambda a, c: a.get("primary_concern") in CONCERNS_UNDER_DEVELOPMENT,
        _(
            "Our program for this concern is still being developed. You can register your interest and we will write when it opens."
        ),
    ),
    # Contraindications a medical practitioner must weigh.
    Rule(
        "psychosis",
        Level.NEEDS_REVIEW,
        _yes("psychosis"),
        _(
            "You mentioned psychosis or hallucinations in the past: a medical practitioner will talk this through with you."
        ),
    ),
    Rule(
        "mania",
        Level.NEEDS_REVIEW,
        _yes("mania"),
        _(
            "You mentioned mania or bipolar disorder: a medical practitioner will talk this through with you."
        ),
    ),
    Rule(
        "hypertension_untreated",
        Level.NEEDS_REVIEW,
        _is("hypertension", "untreated", "unsure"),
        _(
            "Blood pressure that is not treated or not controlled needs a medical practitioner's review first."
        ),
    ),
    Rule(
        "heart_disease",
        Level.NEEDS_REVIEW,
        _yes("heart_disease"),
        _("Heart disease needs a medical practitioner's review first."),
    ),
    Rule(
        "stroke",
        Level.NEEDS_REVIEW,
        _yes("stroke"),
        _("A past stroke needs a medical practitioner's review first."),
    ),
    Rule(
        "seizure",
        Level.NEEDS_REVIEW,
        _yes("seizures"),
        _("Seizures need a medical practitioner's review first."),
    ),
    # May need management first.
    Rule(
        "liver_disease_severe",
        Level.NEEDS_REVIEW,
        _is("liver_disease", "severe", "unsure"),
        _(
            "Severe liver disease may need to be managed before treatment: we will look at it with you."
        ),
    ),
    Rule(
        "thyroid_untreated",
        Level.NEEDS_REVIEW,
        _is("thyroid", "untreated"),
        _(
            "A thyroid condition that is not treated may need to be managed before treatment: we will look at it with you."
        ),
    ),
    Rule(
        "pregnancy_unsure",
        Level.NEEDS_REVIEW,
        _is("pregnant", "unsure"),
        _(
            "You are not sure whether you are pregnant: we will check this with you before anything else."
        ),
    ),
    # Safety first: a signal of risk of self-harm is always seen by a clinician.
    Rule(
        "crisis",
        Level.NEEDS_REVIEW,
        _crisis,
        _(
            "You told us about thoughts of harming yourself. A member of our clinical team will contact you."
        ),
    ),
)

# 2026.2: an "I am not sure" about blood pressure or the liver gets its own
# sentence (under 2026.1 it read as if the client had the condition), and
# another medical condition the client describes is looked at before treatment
# (the clinic's "other medical conditions" criterion).
_SPLIT_IN_2026_2 = {"hypertension_untreated", "liver_disease_severe"}
RULES_2026_2 = (
    *(rule for rule in RULES_2026_1 if rule.code not in _SPLIT_IN_2026_2),
    Rule(
        "hypertension_untreated",
        Level.NEEDS_REVIEW,
        _is("hypertension", "untreated"),
        _(
            "Blood pressure that is not treated or not controlled needs a medical practitioner's review first."
        ),
    ),
    Rule(
        "hypertension_unsure",
        Level.NEEDS_REVIEW,
        _is("hypertension", "unsure"),
        _(
            "You are not sure about your blood pressure: a medical practitioner will check it with you."
        ),
    ),
    Rule(
        "liver_disease_severe",
        Level.NEEDS_REVIEW,
        _is("liver_disease", "severe"),
        _(
            "Severe liver disease may need to be managed before treatment: we will look at it with you."
        ),
    ),
    Rule(
        "liver_disease_unsure",
        Level.NEEDS_REVIEW,
        _is("liver_disease", "unsure"),
        _("You are not sure about your liver health: we will look at it with you."),
    ),
    Rule(
        "other_condition",
        Level.NEEDS_REVIEW,
        lambda a, c: bool((a.get("other_conditions") or "").strip()),
        _(
            "You told us about another medical condition: a medical practitioner will look at it with you before treatment."
        ),
    ),
)

RULESETS: dict[str, tuple[Rule, ...]] = {"2026.1": RULES_2026_1, "2026.2": RULES_2026_2}
CURRENT = "2026.2"


def evaluate(answers: dict, context: Context, version: str = CURRENT) -> Outcome:
    rules = RULESETS[version]
    applying = [rule for rule in rules if rule.applies(answers, context)]
    level = max((rule.level for rule in applying), default=Level.LIKELY_ELIGIBLE)
    return Outcome(level, tuple(rule.code for rule in applying))


def explain(codes, version: str) -> list[tuple[str, str]]:
    """(code, sentence) for each reason, under the rules of `version`."""
    messages = {rule.code: rule.message for rule in RULESETS[version]}
    return [(code, str(messages.get(code, code))) for code in codes]


# How each reason reads to a clinician, whatever the rule version that found
# it (the sentences above are for the client). Wording only: the rules do not
# read it, so adding or rewording one changes no outcome.
CLINICAL_WORDING = {
    "under_minimum_age": _("Under the province's minimum age"),
    "pregnant": _("Pregnant"),
    "nursing": _("Breastfeeding"),
    "concern_under_development": _("Main concern not offered yet (program under development)"),
    "psychosis": _("History of psychosis or hallucinations"),
    "mania": _("History of mania or bipolar disorder"),
    "hypertension_untreated": _("Hypertension not treated or not controlled"),
    "hypertension_unsure": _("Unsure about blood pressure"),
    "heart_disease": _("Heart disease"),
    "stroke": _("History of stroke"),
    "seizure": _("History of seizures"),
    "liver_disease_severe": _("Severe liver disease"),
    "liver_disease_unsure": _("Unsure about liver disease"),
    "thyroid_untreated": _("Untreated thyroid disorder"),
    "pregnancy_unsure": _("Unsure whether pregnant"),
    "crisis": _("Risk of self-harm signalled (PHQ-9 item 9 or the safety question)"),
    "other_condition": _("Other medical condition reported"),
}
# Under 2026.1 one code covered "untreated" and "not sure".
_CLINICAL_2026_1 = {
    "hypertension_untreated": _("Hypertension not treated, not controlled or unsure"),
    "liver_disease_severe": _("Severe liver disease, or unsure"),
}


@dataclass(frozen=True)
class ClinicalReason:
    code: str
    wording: str
    level: Level


def explain_clinical(codes, version: str) -> list[ClinicalReason]:
    """Each reason as a clinician reads it, with the level its rule gave
    under `version` (an unknown code reads as itself, needing review)."""
    levels = {rule.code: rule.level for rule in RULESETS[version]}
    wording = {**CLINICAL_WORDING, **(_CLINICAL_2026_1 if version == "2026.1" else {})}
    return [
        ClinicalReason(code, str(wording.get(code, code)), levels.get(code, Level.NEEDS_REVIEW))
        for code in codes
    ]


def crisis_signalled(answers: dict) -> bool:
    return _crisis(answers, None)
