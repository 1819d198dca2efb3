"""Reads for the measures pages, each with a fixed number of queries."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.paginator import Page, Paginator
from django.db.models import F, Q, QuerySet, Window
from django.db.models.functions import Coalesce, FirstValue, Greatest, Lag, RowNumber
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from clinic.journey import NextStep
from clinic.models import Appointment, ClientProfile, Clinic, User
from clinic.selectors import staff_clinic_ids
from eligibility.models import QuestionnaireResponse

from .models import MeasureInvitation, MeasureSettings

PAGE_SIZE = 25
# A follow-up missed (expired unanswered) stays on the clinicians' list this long.
OVERDUE_SHOWN_DAYS = 60
# A worsening counts when the latest answer is this recent...
WORSENED_SHOWN_DAYS = 90
# ...and this many points above the one before it, or above the baseline.
WORSENED_BY = 5


def measure_settings(clinic: Clinic) -> MeasureSettings:
    """The clinic's settings, or the defaults (an unsaved row) when it has none."""
    found = MeasureSettings.objects.filter(clinic=clinic).first()
    return found if found is not None else MeasureSettings(clinic=clinic)


def _open(now: datetime) -> Q:
    return Q(answered_at__isnull=True, opens_at__lte=now, expires_at__gt=now) & (
        Q(kind=MeasureInvitation.Kind.FOLLOW_UP) | Q(appointment__status=Appointment.Status.BOOKED)
    )


def client_open_invitations(
    *, client: ClientProfile, now: datetime | None = None
) -> list[MeasureInvitation]:
    now = now or timezone.now()
    return list(
        MeasureInvitation.objects.filter(_open(now), client=client)
        .select_related("appointment", "course__clinic")
        .order_by("expires_at", "pk")
    )


def client_invitation(*, client: ClientProfile, invitation_uuid) -> MeasureInvitation | None:
    """One of the client's own invitations (another client's id: None, a 404)."""
    return (
        MeasureInvitation.objects.filter(client=client, uuid=invitation_uuid)
        .select_related("appointment", "course__clinic")
        .first()
    )


@dataclass(frozen=True)
class ScoreRow:
    response: QuestionnaireResponse
    source: str  # "baseline", "before_dosing", "follow_up", "other"
    follow_up_days: int | None


def score_history(*, client: ClientProfile) -> list[ScoreRow]:
    """Every PHQ-9 and GAD-7 the client answered, oldest first, with where it
    came from (the screening, before a dosing session, a follow-up). Two
    queries whatever the number."""
    responses = list(
        QuestionnaireResponse.objects.filter(client=client)
        .only("questionnaire", "score", "band", "at", "screening_id", "client_id")
        .order_by("at", "pk")
    )
    sources: dict[int, tuple[str, int | None]] = {}
    for kind, days, phq9, gad7 in MeasureInvitation.objects.filter(
        client=client, answered_at__isnull=False
    ).values_list("kind", "follow_up_days", "phq9_id", "gad7_id"):
        sources[phq9] = sources[gad7] = (kind, days)
    rows = []
    for response in responses:
        if response.screening_id is not None:
            source, days = "baseline", None
        else:
            source, days = sources.get(response.pk, ("other", None))
        rows.append(ScoreRow(response, source, days))
    return rows


def staff_chart_client(*, user: User, client_uuid) -> ClientProfile | None:
    """A client of one of the staff member's clinics (else None, a 404)."""
    return (
        ClientProfile.objects.filter(uuid=client_uuid, clinic_id__in=staff_clinic_ids(user=user))
        .select_related("user", "clinic")
        .first()
    )


# --- The clinicians' list -----------------------------------------------------------------


def follow_ups_due_page(*, user: User, page, now: datetime | None = None) -> Page:
    """Follow-ups open and not answered (due), or expired unanswered in the
    last OVERDUE_SHOWN_DAYS (overdue), at the staff member's clinics; the
    longest waiting first."""
    now = now or timezone.now()
    invitations = (
        MeasureInvitation.objects.filter(
            kind=MeasureInvitation.Kind.FOLLOW_UP,
            answered_at__isnull=True,
            opens_at__lte=now,
            expires_at__gt=now - timedelta(days=OVERDUE_SHOWN_DAYS),
            course__clinic_id__in=staff_clinic_ids(user=user),
        )
        .select_related("client__user", "course__clinic")
        .order_by("opens_at", "pk")
    )
    return Paginator(invitations, PAGE_SIZE).get_page(page)


def worsened_scores(*, clinic_ids: list[int], now: datetime | None = None) -> QuerySet:
    """Each client's latest PHQ-9 and GAD-7 when it is WORSENED_BY points or
    more above the answer before it or above the client's first (the
    screening's baseline), answered in the last WORSENED_SHOWN_DAYS. One
    query (window functions), however many answers there are."""
    now = now or timezone.now()
    series = [F("client_id"), F("questionnaire")]
    oldest_first = [F("at").asc(), F("pk").asc()]
    return (
        QuestionnaireResponse.objects.filter(client__clinic_id__in=clinic_ids)
        .annotate(
            newest=Window(
                RowNumber(), partition_by=series, order_by=[F("at").desc(), F("pk").desc()]
            ),
            previous_score=Window(Lag("score"), partition_by=series, order_by=oldest_first),
            baseline_score=Window(FirstValue("score"), partition_by=series, order_by=oldest_first),
            # A plain filter on `at` would drop the older answers from the
            # windows (the baseline with them): the cut-off reads a window too.
            latest_at=Window(
                FirstValue("at"), partition_by=series, order_by=[F("at").desc(), F("pk").desc()]
            ),
        )
        .annotate(
            rise=Greatest(
                F("score") - Coalesce(F("previous_score"), F("score")),
                F("score") - F("baseline_score"),
            )
        )
        .filter(
            newest=1,
            rise__gte=WORSENED_BY,
            latest_at__gte=now - timedelta(days=WORSENED_SHOWN_DAYS),
        )
        .select_related("client__user", "client__clinic")
        .order_by("-rise", "-at", "pk")
    )


def worsened_page(*, user: User, page, now: datetime | None = None) -> Page:
    rows = worsened_scores(clinic_ids=staff_clinic_ids(user=user), now=now)
    return Paginator(rows, PAGE_SIZE).get_page(page)


def questionnaire_next_step(course) -> NextStep | None:
    """In integrate and reconnect: an open questionnaire is the client's next step."""
    invitation = (
        MeasureInvitation.objects.filter(_open(timezone.now()), course=course)
        .order_by("expires_at", "pk")
        .only("uuid")
        .first()
    )
    if invitation is None:
        return None
    return NextStep(
        gettext_lazy("Tell us how you are doing"),
        gettext_lazy("Two short questionnaires (PHQ-9 and GAD-7), about 3 minutes."),
        reverse("measures:answer", args=[invitation.uuid]),
        gettext_lazy("Answer the questionnaires"),
    )
