from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.paginator import Paginator
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from clinic.journey import NextStep
from clinic.selectors import staff_clinic_ids

from . import rules, screener
from .models import Decision, Screening
from .questionnaires import GAD7, PHQ9


def is_current(screening: Screening, now: datetime | None = None) -> bool:
    """Submitted within the clinic's validity period (e.g. six months)."""
    if screening.status != Screening.Status.SUBMITTED or screening.submitted_at is None:
        return False
    now = now or timezone.now()
    return now - screening.submitted_at <= timedelta(days=screening.clinic.screening_valid_days)


def connect_next_step(course):
    """The portal's next step in connect, once no intake call is waiting."""
    latest = course.screenings.order_by("-started_at").first()
    if latest is None or latest.status == Screening.Status.DRAFT:
        return NextStep(
            _("Fill in the eligibility screener"),
            _(
                "A few questions about your health and what brings you here. Your answers are saved as you go."
            ),
            reverse("eligibility:screener"),
            _("Continue the screener") if latest else _("Start the screener"),
        )
    if current_decision(latest) is None:
        return NextStep(
            _("We are reviewing your answers"),
            _(
                "A clinician reads every screening. We will write to you with the outcome and the next steps."
            ),
        )
    return None


def current_decision(screening: Screening) -> Decision | None:
    """The latest decision on the answers as last sent, if any."""
    return screening.decisions.on_last_sent_answers().order_by("-at", "-pk").first()


@dataclass(frozen=True)
class SentScreening:
    screening: Screening
    reasons: list[tuple[str, str]]  # (code, sentence) under its rule version
    decision: Decision | None  # on the answers as last sent


def client_screening_status(*, user) -> SentScreening | None:
    """The client's latest sent screening, what the automatic check found and
    the clinician's decision on it, for their "sent" page."""
    screening = (
        Screening.objects.filter(course__client__user=user, status=Screening.Status.SUBMITTED)
        .select_related("clinic")
        .order_by("-submitted_at")
        .first()
    )
    if screening is None:
        return None
    return SentScreening(
        screening,
        rules.explain(screening.reasons, screening.rules_version),
        current_decision(screening),
    )


def screening_review(screening: Screening) -> dict:
    """What a clinician reads to decide: the answers step by step, the
    automatic outcome's reasons, the scores' bands, whether it is current."""
    return {
        "sections": answer_sections(screening),
        "reasons": rules.explain(screening.reasons, screening.rules_version),
        "phq9_band": PHQ9.band(screening.phq9_score).label
        if screening.phq9_score is not None
        else "",
        "gad7_band": GAD7.band(screening.gad7_score).label
        if screening.gad7_score is not None
        else "",
        "current": is_current(screening),
    }


def latest_screening(*, client) -> Screening | None:
    """The client's latest screening on any of their courses, whatever its state."""
    return Screening.objects.filter(course__client=client).order_by("-started_at", "-pk").first()


def answer_sections(screening: Screening) -> list[tuple]:
    """Each step's questions with the answers as the client chose them."""
    sections = []
    for s in screener.steps(screening.screener_version):
        form = s.form(initial=screener.initial_for(s, screening.answers))
        rows = []
        for name, field in form.fields.items():
            value = form.initial.get(name)
            if value in (None, "", []):
                shown = "—"
            elif hasattr(field, "choices"):
                labels = dict((str(k), v) for k, v in field.choices)
                shown = ", ".join(
                    str(labels.get(str(v), v))
                    for v in (value if isinstance(value, list) else [value])
                )
            else:
                shown = value
            rows.append((field.label, shown))
        sections.append((s, rows))
    return sections


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
    """The client's screenings, scores and decisions, for their own data export."""
    screenings = (
        Screening.objects.filter(course__client=client)
        .prefetch_related("decisions")
        .order_by("started_at")
    )
    return [
        {
            "started_at": s.started_at.isoformat(),
            "submitted_at": s.submitted_at.isoformat() if s.submitted_at else None,
            "status": s.status,
            "answers": s.answers,
            "automatic_outcome": s.outcome,
            "reasons": [sentence for _code, sentence in rules.explain(s.reasons, s.rules_version)],
            "phq9_score": s.phq9_score,
            "gad7_score": s.gad7_score,
            "decisions": [
                {"at": d.at.isoformat(), "decision": d.kind, "note": d.note}
                for d in s.decisions.all()
            ],
        }
        for s in screenings
    ]
