"""The clinic's published criteria (DESIGN.md, issue 4) as a table: each row
is a change to a set of answers that meets every criterion, and the outcome
and reasons the rules must give for it."""

from datetime import date
from typing import NamedTuple

import pytest

from eligibility import rules
from eligibility.screener import EXAMPLE_ANSWERS

QC, BC = 18, 19  # minimum ages in Quebec and British Columbia
ON = date(2026, 6, 15)  # the day of scoring, unless a row says otherwise

OK, REVIEW, NOT = "likely_eligible", "needs_review", "not_eligible"


class Row(NamedTuple):
    description: str
    overrides: dict
    outcome: str
    reasons: tuple[str, ...]
    minimum_age: int = QC
    on: date = ON


TABLE = [
    Row("every criterion met", {}, OK, ()),
    Row(
        "another medical condition described",
        {"other_conditions": "Kidney failure, on dialysis"},
        REVIEW,
        ("other_condition",),
    ),
    Row("another medical condition field left blank", {"other_conditions": "   "}, OK, ()),
    # Age: the birthday itself counts; the day before does not.
    Row("QC: 18 today", {"date_of_birth": "2008-06-15"}, OK, ()),
    Row("QC: 18 tomorrow", {"date_of_birth": "2008-06-16"}, NOT, ("under_minimum_age",)),
    Row("QC: 17", {"date_of_birth": "2009-01-01"}, NOT, ("under_minimum_age",)),
    Row(
        "BC: 19 today",
        {"date_of_birth": "2007-06-15", "province": "BC"},
        OK,
        (),
        minimum_age=BC,
    ),
    Row(
        "BC: 19 tomorrow",
        {"date_of_birth": "2007-06-16", "province": "BC"},
        NOT,
        ("under_minimum_age",),
        minimum_age=BC,
    ),
    Row(
        "BC: 18, old enough in QC but not in BC",
        {"date_of_birth": "2008-06-15", "province": "BC"},
        NOT,
        ("under_minimum_age",),
        minimum_age=BC,
    ),
    # Born on 29 February: a year older on 1 March of a common year, not on 28 February.
    Row(
        "leap-day birth on 28 Feb of a common year",
        {"date_of_birth": "2008-02-29"},
        NOT,
        ("under_minimum_age",),
        on=date(2026, 2, 28),
    ),
    Row(
        "leap-day birth on 1 Mar of a common year",
        {"date_of_birth": "2008-02-29"},
        OK,
        (),
        on=date(2026, 3, 1),
    ),
    # Pregnancy and nursing.
    Row("pregnant", {"pregnant": "yes"}, NOT, ("pregnant",)),
    Row("not sure about pregnancy", {"pregnant": "unsure"}, REVIEW, ("pregnancy_unsure",)),
    Row("pregnancy: does not apply", {"pregnant": "not_applicable"}, OK, ()),
    Row("not pregnant", {"pregnant": "no"}, OK, ()),
    Row("nursing", {"nursing": "yes"}, NOT, ("nursing",)),
    Row("not nursing", {"nursing": "no"}, OK, ()),
    # Contraindications a medical practitioner weighs.
    Row("psychosis", {"psychosis": "yes"}, REVIEW, ("psychosis",)),
    Row("mania", {"mania": "yes"}, REVIEW, ("mania",)),
    Row(
        "untreated hypertension",
        {"hypertension": "untreated"},
        REVIEW,
        ("hypertension_untreated",),
    ),
    Row("unsure about hypertension", {"hypertension": "unsure"}, REVIEW, ("hypertension_unsure",)),
    Row("treated hypertension", {"hypertension": "treated"}, OK, ()),
    Row("heart disease", {"heart_disease": "yes"}, REVIEW, ("heart_disease",)),
    Row("stroke", {"stroke": "yes"}, REVIEW, ("stroke",)),
    Row("seizures", {"seizures": "yes"}, REVIEW, ("seizure",)),
    # May need management first.
    Row("mild liver disease", {"liver_disease": "mild"}, OK, ()),
    Row("severe liver disease", {"liver_disease": "severe"}, REVIEW, ("liver_disease_severe",)),
    Row(
        "unsure about liver disease", {"liver_disease": "unsure"}, REVIEW, ("liver_disease_unsure",)
    ),
    Row("treated thyroid", {"thyroid": "treated"}, OK, ()),
    Row("untreated thyroid", {"thyroid": "untreated"}, REVIEW, ("thyroid_untreated",)),
    # The primary concern.
    Row("anxiety", {"primary_concern": "anxiety"}, OK, ()),
    Row("PTSD", {"primary_concern": "ptsd"}, OK, ()),
    Row("addiction", {"primary_concern": "addiction"}, OK, ()),
    Row(
        "eating disorder: under development",
        {"primary_concern": "eating_disorder"},
        NOT,
        ("concern_under_development",),
    ),
    Row(
        "chronic pain: under development",
        {"primary_concern": "chronic_pain"},
        NOT,
        ("concern_under_development",),
    ),
    # Crisis: PHQ-9 item 9 above 0, or yes to the direct safety question.
    Row("PHQ-9 item 9 at 1", {"phq9": [0, 0, 0, 0, 0, 0, 0, 0, 1]}, REVIEW, ("crisis",)),
    Row("PHQ-9 item 9 at 3", {"phq9": [3, 3, 3, 3, 3, 3, 3, 3, 3]}, REVIEW, ("crisis",)),
    Row("PHQ-9 severe but item 9 at 0", {"phq9": [3, 3, 3, 3, 3, 3, 3, 3, 0]}, OK, ()),
    Row("safety question: yes", {"safety_now": "yes"}, REVIEW, ("crisis",)),
    Row(
        "both crisis signals: one reason",
        {"safety_now": "yes", "phq9": [0, 0, 0, 0, 0, 0, 0, 0, 2]},
        REVIEW,
        ("crisis",),
    ),
    # Combinations: the most serious level wins, every reason is kept.
    Row(
        "pregnant with psychosis",
        {"pregnant": "yes", "psychosis": "yes"},
        NOT,
        ("pregnant", "psychosis"),
    ),
    Row(
        "psychosis, mania and a crisis",
        {"psychosis": "yes", "mania": "yes", "safety_now": "yes"},
        REVIEW,
        ("psychosis", "mania", "crisis"),
    ),
    Row(
        "under age, nursing, heart disease and a crisis",
        {
            "date_of_birth": "2010-01-01",
            "nursing": "yes",
            "heart_disease": "yes",
            "phq9": [0, 0, 0, 0, 0, 0, 0, 0, 1],
        },
        NOT,
        ("under_minimum_age", "nursing", "heart_disease", "crisis"),
    ),
    Row(
        "every needs-review condition at once",
        {
            "psychosis": "yes",
            "mania": "yes",
            "hypertension": "untreated",
            "heart_disease": "yes",
            "stroke": "yes",
            "seizures": "yes",
            "liver_disease": "severe",
            "thyroid": "untreated",
            "pregnant": "unsure",
            "safety_now": "yes",
        },
        REVIEW,
        (
            "psychosis",
            "mania",
            "hypertension_untreated",
            "heart_disease",
            "stroke",
            "seizure",
            "liver_disease_severe",
            "thyroid_untreated",
            "pregnancy_unsure",
            "crisis",
        ),
    ),
    Row(
        "unsure about pregnancy, blood pressure and the liver",
        {"pregnant": "unsure", "hypertension": "unsure", "liver_disease": "unsure"},
        REVIEW,
        ("pregnancy_unsure", "hypertension_unsure", "liver_disease_unsure"),
    ),
    Row(
        "chronic pain and an untreated thyroid",
        {"primary_concern": "chronic_pain", "thyroid": "untreated"},
        NOT,
        ("concern_under_development", "thyroid_untreated"),
    ),
]


@pytest.mark.parametrize("row", [pytest.param(r, id=r.description) for r in TABLE])
def test_the_rules_give_the_published_outcome_and_every_reason(row):
    answers = {**EXAMPLE_ANSWERS, **row.overrides}
    context = rules.Context(minimum_age=row.minimum_age, on=row.on)

    outcome = rules.evaluate(answers, context)

    assert outcome.code == row.outcome
    assert sorted(outcome.reasons) == sorted(row.reasons)


def test_the_table_covers_every_rule_of_the_current_version():
    covered = {code for row in TABLE for code in row.reasons}
    assert covered == {rule.code for rule in rules.RULESETS[rules.CURRENT]}


def test_the_example_answers_meet_every_criterion():
    outcome = rules.evaluate(dict(EXAMPLE_ANSWERS), rules.Context(minimum_age=QC, on=ON))
    assert (outcome.code, outcome.reasons) == (OK, ())


def test_an_unanswered_date_of_birth_or_a_short_phq9_is_no_reason_on_its_own():
    answers = {k: v for k, v in EXAMPLE_ANSWERS.items() if k != "date_of_birth"}
    answers["phq9"] = [3, 3]
    outcome = rules.evaluate(answers, rules.Context(minimum_age=QC, on=ON))
    assert outcome.code == OK


def test_a_crisis_is_seen_from_partial_answers_while_the_screener_is_filled_in():
    assert rules.crisis_signalled({"phq9": [0, 0, 0, 0, 0, 0, 0, 0, 1]})
    assert rules.crisis_signalled({"safety_now": "yes"})
    assert not rules.crisis_signalled({"phq9": [0] * 9, "safety_now": "no"})
    assert not rules.crisis_signalled({})


def test_explain_gives_a_readable_sentence_for_every_reason():
    codes = [rule.code for rule in rules.RULES_2026_1]
    explained = rules.explain(codes, "2026.1")
    assert [code for code, _sentence in explained] == codes
    for code, sentence in explained:
        assert sentence != code
        assert sentence.endswith(".")
        assert len(sentence.split()) >= 5
    assert len({sentence for _code, sentence in explained}) == len(codes)


def test_explain_keeps_an_unknown_code_rather_than_losing_it():
    assert rules.explain(["retired_rule"], "2026.1") == [("retired_rule", "retired_rule")]


def test_a_screening_scored_under_2026_1_stays_explainable_by_its_version():
    answers = {**EXAMPLE_ANSWERS, "pregnant": "yes", "seizures": "yes"}
    outcome = rules.evaluate(answers, rules.Context(minimum_age=QC, on=ON), version="2026.1")
    assert outcome.code == NOT
    explained = dict(rules.explain(outcome.reasons, "2026.1"))
    assert "pregnant" in explained["pregnant"]
    assert "Seizures" in explained["seizure"]
    # The version stays registered under its name, whatever becomes current later.
    assert rules.RULESETS["2026.1"] is rules.RULES_2026_1


def test_an_unknown_rule_version_is_an_error_not_a_silent_pass():
    with pytest.raises(KeyError):
        rules.evaluate(dict(EXAMPLE_ANSWERS), rules.Context(minimum_age=QC, on=ON), "1999.1")


@pytest.mark.parametrize(
    ("born", "on", "age"),
    [
        (date(2000, 1, 1), date(2018, 1, 1), 18),
        (date(2000, 1, 2), date(2018, 1, 1), 17),
        (date(2000, 2, 29), date(2018, 2, 28), 17),
        (date(2000, 2, 29), date(2018, 3, 1), 18),
        (date(2000, 2, 29), date(2020, 2, 29), 20),
        (date(2000, 12, 31), date(2019, 1, 1), 18),
    ],
)
def test_age_is_counted_in_whole_years(born, on, age):
    assert rules.age_on(born, on) == age


def test_another_medical_condition_is_looked_at_before_treatment():
    answers = {**EXAMPLE_ANSWERS, "other_conditions": "Kidney failure, on dialysis twice a week"}
    outcome = rules.evaluate(answers, rules.Context(minimum_age=QC, on=ON))
    assert outcome.code == REVIEW
    assert outcome.reasons


def test_a_screening_scored_under_the_first_rules_keeps_its_outcome_and_sentences():
    """2026.2 split "not sure" from the conditions themselves; a 2026.1
    screening is still explained as it was scored."""
    answers = {**EXAMPLE_ANSWERS, "liver_disease": "unsure"}
    context = rules.Context(minimum_age=QC, on=ON)
    assert rules.evaluate(answers, context, version="2026.1").reasons == ("liver_disease_severe",)
    assert rules.evaluate(answers, context).reasons == ("liver_disease_unsure",)
    assert (
        "Severe liver disease"
        in dict(rules.explain(["liver_disease_severe"], "2026.1"))["liver_disease_severe"]
    )
