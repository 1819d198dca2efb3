"""Every sent screening stays as it was sent: a resubmission after "more
information" is a new submission pointing to the one before; the clinician
sees what changed, and each decision shows the answers it was made on."""

import re

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from eligibility import screener, services
from eligibility.models import Decision, Screening, ScreeningSubmission
from eligibility.tests.factories import (
    GOOD_ANSWERS,
    decide,
    resent_after_more_information,
    sent_screening,
    submitted_screening,
)

PHYSICAL_HEALTH = {
    name: GOOD_ANSWERS[name]
    for name in screener.step_by_slug(1, "physical-health").form.base_fields
}


def change_url(screening) -> str:
    return reverse("admin:eligibility_screening_change", args=[screening.pk])


def decide_url(screening) -> str:
    return reverse("admin:eligibility_screening_decide", args=[screening.pk])


def client_web(client_profile) -> Client:
    web = Client(HTTP_ACCEPT_LANGUAGE="en")
    web.force_login(client_profile.user)
    return web


def words(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


@pytest.fixture
def first(client_a):
    """A screening sent once, with heart disease answered yes."""
    return sent_screening(client_a, heart_disease="yes")


def round_trip(staff_web, screening, client_profile):
    """More information asked in the admin; the client answers "no" to
    heart disease in the portal and sends the screener again."""
    staff_web.post(
        decide_url(screening),
        {"kind": "more_information", "note": "Please tell us about your heart disease."},
    )
    web = client_web(client_profile)
    page = web.get("/portal/screening/physical-health/").content.decode()
    assert 'name="heart_disease" value="yes"' in page  # the copy starts from what was sent
    web.post(
        "/portal/screening/physical-health/",
        {**PHYSICAL_HEALTH, "other_conditions": "A murmur as a child, checked: nothing found."},
    )
    review = web.get("/portal/screening/review/")
    assert "changed, was: Yes" in words(review)  # the client sees what they changed too
    assert web.post("/portal/screening/review/")["Location"] == reverse("eligibility:submitted")
    return web


def test_a_resubmission_keeps_the_first_answers_as_they_were_sent(
    staff_login, first, client_a, therapist
):
    sent_first = ScreeningSubmission.objects.get(screening=first)
    kept = dict(sent_first.answers)
    assert (sent_first.number, sent_first.previous, kept["heart_disease"]) == (1, None, "yes")

    round_trip(staff_login(therapist), first, client_a)

    one, two = ScreeningSubmission.objects.filter(screening=first).order_by("number")
    assert one.answers == kept  # unchanged
    assert (one.outcome, one.reasons) == ("needs_review", ["heart_disease"])
    assert (two.number, two.previous) == (2, one)
    assert two.answers["heart_disease"] == "no"
    assert two.answers["other_conditions"].startswith("A murmur")
    assert (two.outcome, two.reasons) == ("needs_review", ["other_condition"])
    first.refresh_from_db()
    assert first.status == Screening.Status.SUBMITTED
    assert (first.answers, first.outcome, first.submitted_at) == (
        two.answers,
        two.outcome,
        two.submitted_at,
    )
    assert Screening.objects.filter(course__client=client_a).count() == 1


def test_the_review_shows_what_changed_and_each_decision_with_its_submission(
    staff_login, first, client_a, therapist, medical_practitioner
):
    round_trip(staff_login(therapist), first, client_a)
    web = staff_login(medical_practitioner)
    web.post(decide_url(first), {"kind": "eligible", "note": "Murmur checked, a good fit."})

    page = web.get(change_url(first))
    text = words(page)
    html = page.content.decode()
    assert "The answers below are those of submission 2 (sent on" in text
    # The changed answer, question by question: before, after.
    assert "What changed in submission 2 since submission 1" in text
    assert "Physical health: Do you have heart disease? Yes No" in text
    assert "Do you have heart disease? No (changed, was: Yes)" in text
    assert "Do you have high blood pressure? No (" not in text  # unchanged: not marked
    # Each decision, with the submission it was made on and a link to its answers.
    history = html.split('data-testid="decision-history"')[1].split("</table>")[0]
    rows = re.findall(r"<tr>(.*?)</tr>", history, re.S)[1:]
    assert len(rows) == 2
    # Newest first, under the decision form.
    assert "eligible" in rows[0] and 'href="#submission-2"' in rows[0]
    assert "more information needed" in rows[1] and 'href="#submission-1"' in rows[1]
    assert 'id="submission-1"' in html and 'id="submission-2"' in html
    # Submission 1's answers, as sent, are on the page under its anchor.
    earlier = html.split('id="submission-1"')[1]
    assert "Do you have heart disease?" in earlier
    assert "Yes" in earlier.split("Do you have heart disease?")[1][:200]

    assert [(d.kind, d.submission.number) for d in Decision.objects.order_by("at", "pk")] == [
        ("more_information", 1),
        ("eligible", 2),
    ]


def test_a_draft_reopened_for_more_information_shows_the_answers_last_sent(
    staff_login, first, client_a, therapist
):
    web = staff_login(therapist)
    web.post(decide_url(first), {"kind": "more_information", "note": "Tell us more."})
    client_web(client_a).post(
        "/portal/screening/physical-health/", {**PHYSICAL_HEALTH, "hypertension": "treated"}
    )
    text = words(web.get(change_url(first)))
    assert "The answers below are those of submission 1" in text
    assert "is filling in the screener again" in text
    assert "Do you have heart disease? Yes" in text  # as sent
    # What the client has saved since is shown apart, marked as not sent.
    assert "Changed in the screener since, not sent yet" in text
    assert (
        "Physical health: Do you have high blood pressure? No Yes, treated and under control"
        in text
    )
    assert "Record a decision" not in text


def test_a_decision_cannot_be_recorded_twice_on_one_submission(first, therapist):
    services.decision_record(screening=first, clinician=therapist, kind="eligible", note="Fit.")
    with pytest.raises(services.ScreeningError, match="already has a decision"):
        services.decision_record(screening=first, clinician=therapist, kind="eligible", note="x")
    # And the database refuses it too, whoever writes.
    with pytest.raises(Exception, match="decision_one_per_submission"), transaction.atomic():
        decide(first, therapist, "not_eligible")
    assert Decision.objects.count() == 1


def test_a_decision_points_to_a_submission_of_its_own_screening(client_a, client_b, therapist):
    mine = submitted_screening(client_a.courses.get())
    other = submitted_screening(client_b.courses.get())
    decision = Decision(
        screening=mine,
        submission=other.submissions.get(),
        clinician=therapist,
        kind="eligible",
        note="x",
    )
    with pytest.raises(Exception, match="submission of its own screening"):
        decision.full_clean()


def test_a_submission_is_never_changed_or_deleted(first):
    submission = first.submissions.get()
    submission.answers = {}
    with pytest.raises(Exception, match="cannot be changed"):
        submission.save()
    with pytest.raises(Exception, match="cannot be deleted"):
        submission.delete()
    # Below the model too (a shell, a bulk update): PostgreSQL's trigger refuses it.
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        ScreeningSubmission.objects.filter(pk=submission.pk).update(answers={})
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        ScreeningSubmission.objects.filter(pk=submission.pk).delete()
    submission.refresh_from_db()
    assert submission.answers["heart_disease"] == "yes"


def test_the_queue_counts_a_screening_sent_again_as_waiting(
    staff_login, first, client_a, therapist
):
    changelist = reverse("admin:eligibility_screening_changelist")
    web = staff_login(therapist)
    web.post(decide_url(first), {"kind": "more_information", "note": "Tell us more."})
    # Waiting for the client, not for a clinician.
    assert list(web.get(changelist + "?waiting=undecided").context["cl"].result_list) == []
    client_web(client_a).post("/portal/screening/review/")
    assert list(web.get(changelist + "?waiting=undecided").context["cl"].result_list) == [first]
    services.decision_record(screening=first, clinician=therapist, kind="eligible", note="x")
    assert list(web.get(changelist + "?waiting=undecided").context["cl"].result_list) == []


def test_the_clients_sent_page_shows_each_submission(first, client_a, therapist):
    resent_after_more_information(first, therapist, heart_disease="no")
    page = client_web(client_a).get(reverse("eligibility:submitted"))
    html = page.content.decode()
    text = words(page)
    assert html.count('data-testid="submission"') == 2
    assert text.index("Sending 2, on") < text.index("Sending 1, on")  # newest first
    assert "Decision: more information needed. Tell us more." in text
    assert "1 answer changed since the sending before." in text
    assert "Do you have heart disease? No changed, was: Yes" in text


def test_the_export_shows_each_submission_with_its_decisions(first, client_a, therapist):
    from eligibility.selectors import client_export

    resent_after_more_information(first, therapist, heart_disease="no")
    [screening] = client_export(client_a)
    assert screening["status"] == "submitted" and "answers_in_progress" not in screening
    one, two = screening["submissions"]
    assert (one["number"], one["answers"]["heart_disease"]) == (1, "yes")
    assert one["decisions"][0]["decision"] == "more_information"
    assert (two["number"], two["answers"]["heart_disease"], two["decisions"]) == (2, "no", [])


def test_the_readable_copy_labels_the_submissions_in_french(client, client_a, therapist, first):
    from django.utils import translation

    from clinic.exports import client_export, readable

    resent_after_more_information(first, therapist, heart_disease="no")
    with translation.override("fr"):
        sections = readable(client_export(client_a), zone=client_a.clinic.zone)
        screenings = next(s for s in sections if s.label == "Vos questionnaires d’admissibilité")
        labels = {e.label for record in screenings.children for e in record.children}
    assert "Chaque envoi" in labels


def test_the_reviews_query_count_does_not_grow_with_the_submissions(
    staff_login, first, therapist, client_a
):
    web = staff_login(therapist)
    web.get(change_url(first))  # warm up the session and the content types

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert web.get(change_url(first)).status_code == 200
        return len(queries)

    once = count()
    for answer in ("no", "unsure", "yes"):
        resent_after_more_information(first, therapist, heart_disease=answer)
    assert first.submissions.count() == 4
    assert count() == once
