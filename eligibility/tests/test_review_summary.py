"""The review as a clinician reads it: a summary first (the outcome's
reasons in clinical words, the risk answers, the scores with their bands and
PHQ-9 item 9, contraindications, "not sure" answers, age and province,
pregnancy, medications), the decision form beside it; and the queue: risk as
a warning, the decision of each screening, waiting ones first by default,
its query count fixed."""

import re
from datetime import date

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinic.tests.factories import client_create
from eligibility import rules, selectors
from eligibility.models import Screening
from eligibility.tests.factories import decide, resent_after_more_information, sent_screening

CHANGELIST = reverse("admin:eligibility_screening_changelist")


def change_url(screening) -> str:
    return reverse("admin:eligibility_screening_change", args=[screening.pk])


def words(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def part(html: str, testid: str) -> str:
    return words(html.split(f'data-testid="{testid}"')[1].split("</div>")[0])


@pytest.fixture
def flagged(client_a):
    return sent_screening(
        client_a,
        safety_now="yes",
        phq9=[2, 3, 2, 2, 1, 2, 1, 1, 2],
        hypertension="unsure",
        liver_disease="unsure",
        heart_disease="yes",
        pregnant="unsure",
        medication_classes=["maoi", "opioids"],
        medications_text="Phenelzine 15 mg",
    )


@time_machine.travel("2026-12-03 15:00Z", tick=False)
def test_the_summary_reads_as_a_clinical_summary(staff_login, flagged, therapist):
    html = staff_login(therapist).get(change_url(flagged)).content.decode()
    summary = html.split('data-testid="summary"')[1].split("</section>")[0]
    text = words(summary)
    # Reasons in clinical words, never the client's sentence or a raw code.
    for reason in (
        "Risk of self-harm signalled (PHQ-9 item 9 or the safety question)",
        "Heart disease",
        "Unsure about blood pressure",
        "Unsure about liver disease",
        "Unsure whether pregnant",
    ):
        assert reason in text, reason
    assert "You told us" not in text and "you" not in text.lower().split()
    for code in ("crisis", "heart_disease", "hypertension_unsure"):
        assert code not in text.split()
    assert "<code>" not in summary
    # Risk answers highlighted: the safety question and PHQ-9 item 9.
    assert 'class="fact fact-wide fact-risk"' in summary
    risk = part(summary, "risk")
    assert "PHQ-9 item 9 (thoughts of death or self-harm): More than half the days" in risk
    assert "Thoughts of ending their life or self-harm, now: Yes" in risk
    assert "16 (Moderately severe)" in part(summary, "phq9")
    assert "item 9: More than half the days" in part(summary, "phq9")
    assert "4 (Minimal)" in part(summary, "gad7")
    contraindications = part(summary, "contraindications")
    assert "Heart disease: Yes" in contraindications
    assert "High blood pressure: I am not sure" in contraindications
    assert "Stroke" not in contraindications  # answered "no"
    assert part(summary, "unsure").endswith(
        "“Not sure” answers Pregnant High blood pressure Liver disease"
    )
    assert "41 years old (born April 23, 1985) Quebec" in part(summary, "age")
    assert "Pregnant: I am not sure" in part(summary, "pregnancy")
    medications = part(summary, "medications")
    assert "MAO inhibitors, Opioids" in medications and "Phenelzine 15 mg" in medications
    # Highlighted in the answers too.
    assert html.count('class="answer answer-risk"') == 2
    assert 'class="answer answer-attention"' in html


def test_the_decision_form_sits_beside_the_summary_above_the_answers(
    staff_login, flagged, therapist
):
    html = staff_login(therapist).get(change_url(flagged)).content.decode()
    top = html.split('class="review-top"')[1].split('data-testid="answers"')[0]
    assert 'data-testid="decision-form"' in top and 'data-testid="history"' in top
    assert html.index('data-testid="decision-form"') < html.index("<h2>About you</h2>")
    # Styled as the admin's: a fieldset with its legend, the note described by its help.
    assert "<legend>Decision</legend>" in top
    assert 'aria-describedby="note-help"' in top


def test_a_resubmission_marks_what_changed_and_keeps_the_history(staff_login, client_a, therapist):
    screening = sent_screening(client_a, heart_disease="yes")
    resent_after_more_information(screening, therapist, heart_disease="no")
    html = staff_login(therapist).get(change_url(screening)).content.decode()
    assert 'class="answer answer-changed"' in html
    history = words(html.split('data-testid="history"')[1].split("</ol>")[0])
    assert re.search(r"Submission 2, sent on .* 1 answer changed Submission 1, sent on", history)


def test_clinical_wording_exists_for_every_rule_of_every_version():
    for version, ruleset in rules.RULESETS.items():
        for rule in ruleset:
            (reason,) = rules.explain_clinical([rule.code], version)
            assert reason.wording != rule.code, (version, rule.code)
            assert reason.level == rule.level


def test_the_summary_of_a_draft_never_sent_needs_no_query(client_a, django_assert_num_queries):
    with django_assert_num_queries(0):
        summary = selectors.review_summary(
            version=1, answers={"date_of_birth": "2008-12-04"}, sent=None, today=date(2026, 12, 3)
        )
    assert summary.age == 17 and summary.phq9.score is None and summary.reasons == []


# --- The queue ---------------------------------------------------------------------


def test_risk_shows_as_a_warning_and_each_decision_shows(
    staff_login, clinic_qc, flagged, therapist
):
    calm = sent_screening(client_create(clinic=clinic_qc, email="calm@example.com"))
    decided = sent_screening(client_create(clinic=clinic_qc, email="decided@example.com"))
    decide(decided, therapist, "not_eligible", "Not now.")
    asked = sent_screening(client_create(clinic=clinic_qc, email="asked@example.com"))
    resent = client_create(clinic=clinic_qc, email="reopened@example.com")
    reopened = sent_screening(resent)
    from eligibility import services

    services.decision_record(
        screening=reopened, clinician=therapist, kind="more_information", note="Tell us more."
    )
    web = staff_login(therapist)

    page = web.get(CHANGELIST).content.decode()
    # No tick, no cross: a warning badge for risk.
    assert "icon-yes" not in page and "icon-no" not in page
    assert page.count("badge-risk") == 1
    rows = web.get(CHANGELIST).context["cl"].result_list
    assert list(rows)[0] == flagged and set(rows) == {flagged, calm, asked}

    everything = web.get(CHANGELIST + "?waiting=all").content.decode()
    assert re.search(r'badge-done">not eligible</span>', everything)
    assert "more information asked" in everything
    assert everything.count('badge-waiting">waiting<') == 3


def test_the_queue_query_count_is_the_same_at_two_sizes(staff_login, clinic_qc, therapist):
    web = staff_login(therapist)
    web.get(CHANGELIST + "?waiting=all")

    def count_with(total):
        while Screening.objects.count() < total:
            n = Screening.objects.count()
            screening = sent_screening(
                client_create(clinic=clinic_qc, email=f"q{n}@example.com"),
                safety_now="yes" if n % 3 == 0 else "no",
            )
            if n % 2:
                decide(screening, therapist, "eligible" if n % 4 == 1 else "not_eligible")
        counts = []
        for query in ("", "?waiting=all", "?waiting=decided"):
            with CaptureQueriesContext(connection) as queries:
                assert web.get(CHANGELIST + query).status_code == 200
            counts.append(len(queries))
        return counts

    assert count_with(4) == count_with(40)


def test_the_review_query_count_is_the_same_with_more_submissions_and_decisions(
    staff_login, client_a, client_b, therapist
):
    one = sent_screening(client_a, safety_now="yes")
    three = sent_screening(client_b, heart_disease="yes")
    resent_after_more_information(three, therapist, heart_disease="no")
    resent_after_more_information(three, therapist, stroke="yes")
    decide(three, therapist, "eligible")
    web = staff_login(therapist)
    web.get(change_url(one))  # warm up the session

    def count(screening):
        with CaptureQueriesContext(connection) as queries:
            assert web.get(change_url(screening)).status_code == 200
        return len(queries)

    assert count(one) == count(three)


def test_a_refused_decision_shows_the_review_again_with_the_note_kept(
    staff_login, flagged, therapist
):
    web = staff_login(therapist)
    note = "Called her: safety plan in place."
    response = web.post(
        reverse("admin:eligibility_screening_decide", args=[flagged.pk]), {"note": note}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="decision-errors"' in html and 'data-testid="summary"' in html
    assert note in html.split('data-testid="decision-form"')[1]
    assert not flagged.decisions.exists()
    # A made-up kind: refused the same way, the chosen note kept.
    response = web.post(
        reverse("admin:eligibility_screening_decide", args=[flagged.pk]),
        {"kind": "fast_track", "note": note},
    )
    assert note in response.content.decode() and not flagged.decisions.exists()
