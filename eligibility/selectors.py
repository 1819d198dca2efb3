from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from clinic.exports import Entry, day_text
from clinic.journey import NextStep, StageTask, TaskState
from clinic.selectors import staff_clinic_ids

from . import rules, screener
from .models import Decision, Screening, ScreeningSubmission
from .questionnaires import GAD7, PHQ9, PHQ9_SAFETY_ITEM

# Sendings made before each one was kept: a later sending overwrote them.
ANSWERS_NOT_KEPT = gettext_noop(
    "Not kept: these answers were replaced when the screening was sent again."
)


def is_current(screening: Screening, now: datetime | None = None) -> bool:
    """Submitted within the clinic's validity period (e.g. six months)."""
    if screening.status != Screening.Status.SUBMITTED or screening.submitted_at is None:
        return False
    now = now or timezone.now()
    return now - screening.submitted_at <= timedelta(days=screening.clinic.screening_valid_days)


def connect_tasks(course) -> list[StageTask]:
    """The screener's part of connect, as the client reads it in the portal:
    not started, in progress, more information asked, sent and waiting, or
    decided. The screener is open in connect whether or not the intake call
    has taken place. Two queries."""
    label = _("Eligibility screener")
    latest = course.screenings.select_related("clinic").order_by("-started_at", "-pk").first()
    screener_url = reverse("eligibility:screener")
    if latest is None or latest.status == Screening.Status.DRAFT:
        asked = information_requested(latest) if latest is not None else None
        if asked is not None:
            return [
                StageTask(
                    label,
                    _("A clinician asks for more information"),
                    TaskState.TODO,
                    NextStep(
                        _("Our clinical team asks for more information"),
                        _(
                            "A clinician read your answers and would like to know more. "
                            "Their message is in the screener, with your answers to change "
                            "and send again."
                        ),
                        screener_url,
                        _("Answer in the screener"),
                    ),
                    urgency=10,
                )
            ]
        started = latest is not None and bool(latest.current_step)
        return [
            StageTask(
                label,
                _("In progress: your answers are saved") if started else _("Not started"),
                TaskState.TODO,
                NextStep(
                    _("Fill in the eligibility screener"),
                    _(
                        "A few questions about your health and what brings you here. Your answers are saved as you go."
                    ),
                    screener_url,
                    _("Continue the screener") if started else _("Start the screener"),
                ),
                urgency=30,
            )
        ]
    if not is_current(latest):
        return [
            StageTask(
                label,
                _("Your last answers are too old: please fill in the screener again"),
                TaskState.TODO,
                NextStep(
                    _("Fill in the eligibility screener again"),
                    _(
                        "Your last screening is more than a few months old. Health and mood change: "
                        "please answer again."
                    ),
                    screener_url,
                    _("Start the screener"),
                ),
                urgency=30,
            )
        ]
    sent_on = date_format(
        timezone.localtime(latest.submitted_at, latest.clinic.zone), "DATE_FORMAT"
    )
    decision = current_decision(latest)
    if decision is None:
        return [
            StageTask(
                label,
                _("Sent on %(day)s: a clinician is reviewing your answers") % {"day": sent_on},
                TaskState.WAITING,
                NextStep(
                    _("We are reviewing your answers"),
                    _(
                        "A clinician reads every screening. We will write to you with the outcome and the next steps."
                    ),
                    reverse("eligibility:submitted"),
                    _("See what you sent"),
                ),
                urgency=50,
            )
        ]
    if decision.kind == Decision.Kind.ELIGIBLE:
        status = _("Eligible: a clinician confirmed that the program can suit you")
    else:
        status = _("Decided: %(decision)s") % {"decision": decision.get_kind_display()}
    return [StageTask(label, status, TaskState.DONE)]


def current_decision(screening: Screening) -> Decision | None:
    """The decision on the answers as last sent (the latest submission), if any."""
    return Decision.objects.on_latest_submission().filter(screening=screening).first()


@dataclass(frozen=True)
class AnswerRow:
    """One question with its answer as the person chose it; `before` is what
    the previous submission said when the answer changed since."""

    label: str
    shown: str
    before: str | None = None
    # For the clinician's eye: "risk" (self-harm) or "attention" (a
    # contraindication, a condition, an "I am not sure"); empty otherwise.
    flag: str = ""

    @property
    def changed(self) -> bool:
        return self.before is not None


@dataclass(frozen=True)
class SubmissionView:
    """A submission as a page shows it: its answers by step (changes since
    the one before marked), the decision made on it, how many answers changed."""

    submission: ScreeningSubmission
    sections: list[tuple[screener.Step, list[AnswerRow]]]
    decision: Decision | None
    changes: list[tuple[screener.Step, AnswerRow]]
    compared: bool  # False for the first one, or when the one before was not kept

    @property
    def anchor(self) -> str:
        return f"submission-{self.submission.number}"


@dataclass(frozen=True)
class SentScreening:
    screening: Screening
    reasons: list[tuple[str, str]]  # (code, sentence) under its rule version
    decision: Decision | None  # on the answers as last sent
    submissions: list[SubmissionView]  # newest first


def _submission_views(screening: Screening, decisions: list[Decision]) -> list[SubmissionView]:
    """Each submission of the screening, oldest first, compared with the one
    before. One query (the decisions are the caller's)."""
    on = {d.submission_id: d for d in decisions}
    views: list[SubmissionView] = []
    previous = None
    for submission in screening.submissions.order_by("number"):
        before = previous.answers if previous is not None else None
        sections = (
            answer_sections(screening.screener_version, submission.answers or {}, before=before)
            if submission.answers_kept
            else []
        )
        views.append(
            SubmissionView(
                submission,
                sections,
                on.get(submission.pk),
                [(step, row) for step, rows in sections for row in rows if row.changed],
                before is not None and submission.answers_kept,
            )
        )
        previous = submission
    return views


def client_screening_status(*, user) -> SentScreening | None:
    """The client's latest sent screening, what the automatic check found and
    the clinician's decision on it, with every time they sent it, for their
    "sent" page."""
    screening = (
        Screening.objects.filter(course__client__user=user, status=Screening.Status.SUBMITTED)
        .select_related("clinic")
        .order_by("-submitted_at")
        .first()
    )
    if screening is None:
        return None
    decisions = list(screening.decisions.order_by("at", "pk"))
    views = _submission_views(screening, decisions)
    latest = views[-1] if views else None
    return SentScreening(
        screening,
        rules.explain(screening.reasons, screening.rules_version),
        latest.decision if latest is not None else None,
        list(reversed(views)),
    )


def _band(questionnaire, score) -> str:
    return questionnaire.band(score).label if score is not None else ""


def screening_review(screening: Screening) -> dict:
    """What a clinician reads to decide: the answers as last sent, step by
    step, with what changed since the submission before marked; the
    automatic outcome's reasons and the scores' bands of that submission;
    whether it is current; every decision with the submission it was made
    on, and each earlier submission's answers. A draft never sent shows the
    answers saved so far; a draft reopened by "more information" also shows
    what the client has changed since, not sent yet. A fixed number of
    queries, however many submissions and decisions."""
    decisions = list(
        screening.decisions.select_related("clinician", "submission").order_by("at", "pk")
    )
    views = _submission_views(screening, decisions)
    latest = views[-1] if views else None
    version = screening.screener_version
    context: dict[str, object] = {
        "submission": latest.submission if latest else None,
        "latest": latest,
        "earlier": list(reversed(views[:-1])),
        "decisions": decisions,
        "current": is_current(screening),
        "draft_changes": [],
    }
    today = timezone.localdate(timezone=screening.clinic.zone)
    context["history"] = list(reversed(views))
    if latest is None:
        context.update(
            sections=answer_sections(version, screening.answers),
            reasons=[],
            phq9_band="",
            gad7_band="",
            summary=review_summary(
                version=version, answers=screening.answers, sent=None, today=today
            ),
        )
        return context
    sent = latest.submission
    context.update(
        sections=latest.sections,
        reasons=rules.explain(sent.reasons, sent.rules_version),
        phq9_band=_band(PHQ9, sent.phq9_score),
        gad7_band=_band(GAD7, sent.gad7_score),
        summary=review_summary(version=version, answers=sent.answers or {}, sent=sent, today=today),
    )
    if screening.status == Screening.Status.DRAFT and sent.answers_kept:
        context["draft_changes"] = [
            (step, row)
            for step, rows in answer_sections(version, screening.answers, before=sent.answers)
            for row in rows
            if row.changed
        ]
    return context


def draft_sections(screening: Screening) -> list[tuple[screener.Step, list[AnswerRow]]]:
    """The draft's answers for the client to check before sending; once sent
    before (reopened by "more information"), each answer changed since is
    marked with what was sent. One query."""
    last = screening.submissions.order_by("-number").first()
    before = last.answers if last is not None else None
    return answer_sections(screening.screener_version, screening.answers, before=before)


def latest_screening(*, client) -> Screening | None:
    """The client's latest screening on any of their courses, whatever its state."""
    return Screening.objects.filter(course__client=client).order_by("-started_at", "-pk").first()


def _shown(field, value) -> str:
    if value in (None, "", []):
        return "—"
    if hasattr(field, "choices"):
        labels = {str(k): v for k, v in field.choices}
        return ", ".join(
            str(labels.get(str(v), v)) for v in (value if isinstance(value, list) else [value])
        )
    return str(value)


def answer_sections(
    version: int, answers: dict, *, before: dict | None = None
) -> list[tuple[screener.Step, list[AnswerRow]]]:
    """Each step's questions with the answers as the client chose them; with
    `before` (an earlier submission's answers), each answer that differs
    carries what it was."""
    sections = []
    for step in screener.steps(version):
        form = step.form(initial=screener.initial_for(step, answers))
        earlier = screener.initial_for(step, before) if before is not None else None
        rows = []
        questionnaire = getattr(step.form, "questionnaire", None)
        for name, field in form.fields.items():
            value = form.initial.get(name)
            shown = _shown(field, value)
            was = _shown(field, earlier.get(name)) if earlier is not None else None
            rows.append(
                AnswerRow(
                    field.label,
                    shown,
                    was if was not in (None, shown) else None,
                    _flag(name, value, questionnaire),
                )
            )
        sections.append((step, rows))
    return sections


def readable_answers(answers, record: dict):
    """A screening's answers in its client's data export, as the client read
    them: each step's title, then each question with the answer's label
    (never a field name or a code). None for what is not a set of answers
    (a note that they were not kept)."""
    version = record.get("screener_version", screener.CURRENT)
    if not isinstance(answers, dict) or version not in screener.SCREENERS:
        return None
    return [
        Entry(
            str(step.title),
            children=[Entry(str(row.label), day_text(row.shown) or row.shown) for row in rows],
        )
        for step, rows in answer_sections(version, answers)
    ]


# Questions whose answer other than "no" a medical practitioner weighs (the
# clinic's contraindications and conditions that may need managing first).
CONTRAINDICATIONS = (
    "psychosis",
    "mania",
    "hypertension",
    "heart_disease",
    "stroke",
    "seizures",
    "liver_disease",
    "thyroid",
    "other_conditions",
)
UNSURE = "unsure"


def _flag(name: str, value, questionnaire) -> str:
    if questionnaire is not None:
        risky = questionnaire is PHQ9 and name == f"item_{PHQ9_SAFETY_ITEM + 1}"
        return "risk" if risky and (value or 0) > 0 else ""
    if name == "safety_now":
        return "risk" if value == "yes" else ""
    if value == UNSURE:
        return "attention"
    if name in CONTRAINDICATIONS and value not in (None, "", "no"):
        return "attention"
    if name in ("pregnant", "nursing") and value == "yes":
        return "attention"
    return ""


SUMMARY_LABELS = {
    "psychosis": gettext_lazy("Psychosis or hallucinations"),
    "mania": gettext_lazy("Mania or bipolar disorder"),
    "hypertension": gettext_lazy("High blood pressure"),
    "heart_disease": gettext_lazy("Heart disease"),
    "stroke": gettext_lazy("Stroke"),
    "seizures": gettext_lazy("Seizures"),
    "liver_disease": gettext_lazy("Liver disease"),
    "thyroid": gettext_lazy("Thyroid condition"),
    "other_conditions": gettext_lazy("Other medical conditions"),
    "pregnant": gettext_lazy("Pregnant"),
    "nursing": gettext_lazy("Breastfeeding"),
    "safety_now": gettext_lazy("Thoughts of ending their life or self-harm, now"),
    f"phq9.item_{PHQ9_SAFETY_ITEM + 1}": gettext_lazy(
        "PHQ-9 item 9 (thoughts of death or self-harm)"
    ),
    "medication_classes": gettext_lazy("Medication classes"),
    "medications_text": gettext_lazy("Medications and doses"),
}


@dataclass(frozen=True)
class Score:
    score: int | None
    band: str
    band_code: str


@dataclass(frozen=True)
class ReviewSummary:
    """What a clinician reads first: the automatic outcome and its reasons in
    clinical words, the answers that signal risk, the scores with their
    bands, contraindications and "not sure" answers, age, province,
    pregnancy and nursing, medications."""

    outcome: str
    reasons: list[rules.ClinicalReason]
    risk: list[AnswerRow]
    phq9: Score
    gad7: Score
    phq9_item9: AnswerRow
    contraindications: list[AnswerRow]
    unsure: list[AnswerRow]
    born: str
    age: int | None
    province: str
    pregnancy: list[AnswerRow]
    medications: list[AnswerRow]


def _score(questionnaire, answers: dict, kept: int | None) -> Score:
    values = answers.get(questionnaire.code) or []
    score = kept
    if score is None and len(values) == len(questionnaire.items):
        score = sum(values)
    if score is None:
        return Score(None, "", "")
    band = questionnaire.band(score)
    return Score(score, str(band.label), band.code)


def review_summary(
    *,
    version: int,
    answers: dict,
    sent: ScreeningSubmission | None,
    today,
) -> ReviewSummary:
    """The summary of `answers` (those of the submission `sent`, or a draft
    never sent); `today` is the clinic's date, for the age. No query."""
    rows = {}
    for step, section in answer_sections(version, answers):
        fields: dict = getattr(step.form, "base_fields", {})
        questionnaire = getattr(step.form, "questionnaire", None)
        for name, row in zip(fields, section, strict=True):
            rows[f"{questionnaire.code}.{name}" if questionnaire else name] = row
    # The summary names each answer in a few clinical words, not the question.
    rows = {
        key: replace(row, label=str(SUMMARY_LABELS[key])) if key in SUMMARY_LABELS else row
        for key, row in rows.items()
    }
    item9 = rows[f"phq9.item_{PHQ9_SAFETY_ITEM + 1}"]
    risk = [row for row in rows.values() if row.flag == "risk"]
    born_value = answers.get("date_of_birth")
    born, age = "", None
    if born_value:
        try:
            born_date = date.fromisoformat(born_value)
        except ValueError:
            born = str(born_value)
        else:
            born = date_format(born_date, "DATE_FORMAT")
            age = rules.age_on(born_date, today)
    return ReviewSummary(
        outcome=sent.get_outcome_display() if sent is not None else "",
        reasons=rules.explain_clinical(sent.reasons, sent.rules_version) if sent else [],
        risk=risk,
        phq9=_score(PHQ9, answers, sent.phq9_score if sent else None),
        gad7=_score(GAD7, answers, sent.gad7_score if sent else None),
        phq9_item9=item9,
        contraindications=[
            rows[name] for name in CONTRAINDICATIONS if name in rows and rows[name].flag
        ],
        unsure=[row for key, row in rows.items() if answers.get(key) == UNSURE],
        born=born,
        age=age,
        province=rows["province"].shown if "province" in rows else "—",
        pregnancy=[rows[name] for name in ("pregnant", "nursing") if name in rows],
        medications=[
            rows[name] for name in ("medication_classes", "medications_text") if name in rows
        ],
    )


def staff_screening_page(*, user, page):
    """Screenings of the staff member's clinics, newest first: whether one
    exists, when it was sent and whether it is decided; never the answers."""
    screenings = (
        Screening.objects.filter(clinic_id__in=staff_clinic_ids(user=user))
        .select_related("course__client__user", "clinic")
        .only(
            "uuid",
            "status",
            "submitted_at",
            "started_at",
            "crisis_flag",
            "clinic__name",
            "course__client__user__first_name",
            "course__client__user__last_name",
            "course__client__user__email",
        )
        .with_decided()
        .order_by("-started_at", "-pk")
    )
    return Paginator(screenings, 25).get_page(page)


def information_requested(screening: Screening):
    """The clinician's request for more information that reopened this draft, if any."""
    if screening.status != Screening.Status.DRAFT:
        return None
    latest = screening.decisions.order_by("-at", "-pk").first()
    return latest if latest is not None and latest.kind == Decision.Kind.MORE_INFORMATION else None


def client_export(client) -> list[dict]:
    """The client's screenings, each time they sent one (answers, outcome,
    scores and the decisions on it), and the answers of a draft not sent yet,
    for their own data export. Three queries."""
    screenings = (
        Screening.objects.filter(course__client=client)
        .prefetch_related(
            Prefetch(
                "submissions",
                queryset=ScreeningSubmission.objects.order_by("number").prefetch_related(
                    "decisions"
                ),
            )
        )
        .order_by("started_at")
    )
    data = []
    for s in screenings:
        entry = {
            "started_at": s.started_at.isoformat(),
            "status": s.status,
            "screener_version": s.screener_version,
        }
        if s.status == Screening.Status.DRAFT:
            entry["answers_in_progress"] = s.answers
        entry["submissions"] = [
            {
                "number": sent.number,
                "screener_version": s.screener_version,
                "submitted_at": sent.submitted_at.isoformat() if sent.submitted_at else None,
                "answers": sent.answers if sent.answers_kept else _(ANSWERS_NOT_KEPT),
                "automatic_outcome": sent.outcome,
                "reasons": [
                    sentence for _code, sentence in rules.explain(sent.reasons, sent.rules_version)
                ],
                "phq9_score": sent.phq9_score,
                "gad7_score": sent.gad7_score,
                "decisions": [
                    {"at": d.at.isoformat(), "decision": d.kind, "note": d.note}
                    for d in sent.decisions.all()
                ],
            }
            for sent in s.submissions.all()
        ]
        data.append(entry)
    return data
