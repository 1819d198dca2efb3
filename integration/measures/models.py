"""The clinic's measurement settings and the invitations to answer the
PHQ-9 and GAD-7. The answers are eligibility's QuestionnaireResponse rows
(the screener's are the baseline); an invitation points to the pair it got."""

import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinic.models import Appointment, ClientProfile, Clinic, Course
from eligibility.models import QuestionnaireResponse

# 1 week, 1 month and 3 months after the series ends.
DEFAULT_FOLLOW_UP_DAYS = [7, 30, 91]
MAX_FOLLOW_UPS = 6
MAX_FOLLOW_UP_DAY = 730


def default_follow_up_days() -> list[int]:
    return list(DEFAULT_FOLLOW_UP_DAYS)


def validate_follow_up_days(value) -> None:
    if (
        not isinstance(value, list)
        or not 1 <= len(value) <= MAX_FOLLOW_UPS
        or any(not isinstance(d, int) or not 1 <= d <= MAX_FOLLOW_UP_DAY for d in value)
        or sorted(set(value)) != value
    ):
        raise ValidationError(
            _(
                "Give from 1 to %(count)s different days after the series, in increasing order, "
                "each from 1 to %(max)s, for example [7, 30, 91]."
            )
            % {"count": MAX_FOLLOW_UPS, "max": MAX_FOLLOW_UP_DAY}
        )


class MeasureSettings(models.Model):
    """A clinic's schedule of questionnaires; a clinic without a row uses the
    defaults (`measure_settings` in selectors)."""

    clinic = models.OneToOneField(
        Clinic, on_delete=models.CASCADE, related_name="measure_settings", verbose_name=_("clinic")
    )
    follow_up_days = models.JSONField(
        _("follow-ups, in days after the series"),
        default=default_follow_up_days,
        validators=[validate_follow_up_days],
        help_text=_("For example [7, 30, 91]: one week, one month and three months after."),
    )
    valid_days = models.PositiveSmallIntegerField(
        _("days an invitation can be answered"),
        default=14,
        help_text=_("A follow-up can be answered for this many days after it is sent."),
    )
    days_before_dosing = models.PositiveSmallIntegerField(
        _("days before a dosing session the questionnaire is sent"), default=3
    )

    class Meta:
        verbose_name = _("measurement settings")
        verbose_name_plural = _("measurement settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_days__gte=1, valid_days__lte=90), name="measures_valid_days_sane"
            ),
            models.CheckConstraint(
                condition=Q(days_before_dosing__gte=1, days_before_dosing__lte=14),
                name="measures_days_before_dosing_sane",
            ),
        ]

    def __str__(self) -> str:
        return str(self.clinic)


class MeasureInvitation(models.Model):
    """An invitation to answer the PHQ-9 and the GAD-7: before a dosing
    session (until it starts) or as a follow-up after the series (for
    `valid_days`). Answered once: the answer service sets `answered_at` and
    the two responses with a conditional update."""

    class Kind(models.TextChoices):
        BEFORE_DOSING = "before_dosing", _("before a dosing session")
        FOLLOW_UP = "follow_up", _("follow-up")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(
        ClientProfile, on_delete=models.PROTECT, related_name="+", verbose_name=_("client")
    )
    course = models.ForeignKey(
        Course, on_delete=models.PROTECT, related_name="+", verbose_name=_("course")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    appointment = models.ForeignKey(
        Appointment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("dosing session"),
    )
    follow_up_days = models.PositiveSmallIntegerField(
        _("days after the series"), null=True, blank=True
    )
    opens_at = models.DateTimeField(_("sent at"))
    expires_at = models.DateTimeField(_("can be answered until"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    phq9 = models.OneToOneField(
        QuestionnaireResponse,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("PHQ-9 answer"),
    )
    gad7 = models.OneToOneField(
        QuestionnaireResponse,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("GAD-7 answer"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("questionnaire invitation")
        verbose_name_plural = _("questionnaire invitations")
        ordering = ["opens_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["appointment"],
                condition=Q(kind="before_dosing"),
                name="measures_one_invitation_per_session",
            ),
            models.UniqueConstraint(
                fields=["course", "follow_up_days"],
                condition=Q(kind="follow_up"),
                name="measures_one_follow_up_per_day",
            ),
            models.CheckConstraint(
                condition=(Q(kind="before_dosing") & Q(appointment__isnull=False))
                | (Q(kind="follow_up") & Q(follow_up_days__isnull=False)),
                name="measures_invitation_kind_fields",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("opens_at")),
                name="measures_invitation_expires_after_it_opens",
            ),
            # Answered means both answers are there, and only then.
            models.CheckConstraint(
                condition=Q(answered_at__isnull=True, phq9__isnull=True, gad7__isnull=True)
                | Q(answered_at__isnull=False, phq9__isnull=False, gad7__isnull=False),
                name="measures_invitation_answered_has_both",
            ),
        ]
        indexes = [
            models.Index(fields=["client", "opens_at"], name="measures_inv_client_idx"),
            models.Index(
                fields=["kind", "answered_at", "opens_at"], name="measures_inv_worklist_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client} · {self.get_kind_display()} · {self.opens_at:%Y-%m-%d}"
