"""Eligibility: the screener a client fills in, its scored outcome, and the
clinician's decision that alone moves a client on."""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from clinic.models import ClientProfile, Clinic, Course


class ScreeningQuerySet(models.QuerySet):
    def with_decided(self):
        """Annotates `decided`: a clinician has decided on the answers as last
        sent (see DecisionQuerySet.on_latest_submission)."""
        return self.annotate(
            decided=Exists(Decision.objects.on_latest_submission().filter(screening=OuterRef("pk")))
        )

    def with_decision_state(self):
        """`decided` (as with_decided), and the kind and time of the latest
        decision on any submission: the decision itself when decided, the
        request for more information when the client is answering again."""
        latest = Decision.objects.filter(screening=OuterRef("pk")).order_by("-at", "-pk")
        return self.with_decided().annotate(
            decision_kind=Subquery(latest.values("kind")[:1]),
            decision_at=Subquery(latest.values("at")[:1]),
        )


class Screening(models.Model):
    """A client's screening. While a draft, `answers` is the copy the client
    edits step by step; each time it is sent, what was sent is kept as a
    ScreeningSubmission that never changes. The outcome, scores and
    `submitted_at` here repeat the latest submission's, for the review queue
    (its order and filters); "more information" turns it back into a draft
    that starts from the answers last sent."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("in progress")
        SUBMITTED = "submitted", _("submitted")

    class Outcome(models.TextChoices):
        LIKELY_ELIGIBLE = "likely_eligible", _("likely eligible")
        NEEDS_REVIEW = "needs_review", _("needs review")
        NOT_ELIGIBLE = "not_eligible", _("not eligible")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    course = models.ForeignKey(
        Course, on_delete=models.PROTECT, related_name="screenings", verbose_name=_("course")
    )
    clinic = models.ForeignKey(
        Clinic, on_delete=models.PROTECT, related_name="+", verbose_name=_("clinic")
    )
    screener_version = models.PositiveSmallIntegerField(_("screener version"))
    rules_version = models.CharField(_("rules version"), max_length=20)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    current_step = models.CharField(_("current step"), max_length=30, blank=True)
    outcome = models.CharField(
        _("automatic outcome"), max_length=20, choices=Outcome.choices, blank=True
    )
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    phq9_score = models.PositiveSmallIntegerField(_("PHQ-9 score"), null=True, blank=True)
    gad7_score = models.PositiveSmallIntegerField(_("GAD-7 score"), null=True, blank=True)
    crisis_flag = models.BooleanField(_("risk of self-harm signalled"), default=False)
    crisis_at = models.DateTimeField(_("risk signalled at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("last saved at"), default=timezone.now)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)

    objects = ScreeningQuerySet.as_manager()

    class Meta:
        verbose_name = _("screening")
        verbose_name_plural = _("screenings")
        ordering = ["submitted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["course"],
                condition=Q(status="draft"),
                name="screening_one_draft_per_course",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(submitted_at__isnull=False, outcome__gt=""),
                name="screening_submitted_has_outcome",
            ),
        ]
        indexes = [
            models.Index(
                fields=["status", "outcome", "submitted_at"], name="screening_review_queue_idx"
            ),
            models.Index(fields=["clinic", "submitted_at"], name="screening_clinic_idx"),
            # The review queue's order: flagged first, then the oldest waiting.
            models.Index(
                fields=["clinic", "-crisis_flag", "submitted_at"], name="screening_queue_order_idx"
            ),
            # The queue as it opens (sent screenings: drafts never wait for a
            # decision): its rows read in order from the top, the admin's
            # tie-break on -pk included, and its capped count read from the
            # index alone, whatever the number of clients.
            models.Index(
                fields=["clinic", "-crisis_flag", "submitted_at", "-id"],
                condition=Q(status="submitted"),
                name="screening_sent_queue_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.course.client} · {self.get_status_display()}"


class ScreeningSubmission(models.Model):
    """One sending of a screening, exactly as it was sent: the answers, the
    automatic outcome under the rules in force then, the scores, whether a
    risk of self-harm had been signalled. Never changed or deleted (on
    PostgreSQL a trigger refuses it): a resubmission after "more information"
    is a new row pointing to the one before, and each decision points to the
    submission it was made on.

    `answers` is empty (NULL) only for sendings made before submissions were
    kept, whose answers were overwritten by a later sending: the decisions
    made on them still show which sending they were about."""

    screening = models.ForeignKey(
        Screening, on_delete=models.PROTECT, related_name="submissions", verbose_name=_("screening")
    )
    number = models.PositiveSmallIntegerField(_("number"))
    previous = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="next",
        verbose_name=_("previous submission"),
    )
    answers = models.JSONField(_("answers"), null=True, blank=True)
    rules_version = models.CharField(_("rules version"), max_length=20)
    outcome = models.CharField(
        _("automatic outcome"), max_length=20, choices=Screening.Outcome.choices, blank=True
    )
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    phq9_score = models.PositiveSmallIntegerField(_("PHQ-9 score"), null=True, blank=True)
    gad7_score = models.PositiveSmallIntegerField(_("GAD-7 score"), null=True, blank=True)
    crisis_flag = models.BooleanField(_("risk of self-harm signalled when sent"), default=False)
    submitted_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("screening submission")
        verbose_name_plural = _("screening submissions")
        ordering = ["screening", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["screening", "number"], name="screening_submission_number_unique"
            ),
            # The first has no previous one; every later one has.
            models.CheckConstraint(
                condition=Q(number=1, previous__isnull=True)
                | Q(number__gt=1, previous__isnull=False),
                name="screening_submission_chain",
            ),
            models.CheckConstraint(
                condition=Q(answers__isnull=True) | Q(submitted_at__isnull=False, outcome__gt=""),
                name="screening_submission_sent_has_outcome",
            ),
        ]

    def __str__(self) -> str:
        return gettext("Submission %(number)s") % {"number": self.number}

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError(
                _("A sent screening cannot be changed: it is sent again instead.")
            )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("A sent screening cannot be deleted."))

    @property
    def answers_kept(self) -> bool:
        return self.answers is not None


class DecisionQuerySet(models.QuerySet):
    def on_latest_submission(self):
        """Decisions on the answers as last sent: a decision on an earlier
        submission (before "more information" and a resubmission) was about
        earlier answers. The latest submission is the one no other follows."""
        return self.filter(submission__next__isnull=True)


class Decision(models.Model):
    """A clinician's decision on a screening. Append-only: a new decision
    (after more information) is a new row."""

    class Kind(models.TextChoices):
        ELIGIBLE = "eligible", _("eligible")
        NOT_ELIGIBLE = "not_eligible", _("not eligible")
        MORE_INFORMATION = "more_information", _("more information needed")

    # The client reads the note of these decisions (the decision form tells
    # the clinician so); an eligible decision's note stays with the team.
    NOTE_FOR_CLIENT = frozenset({Kind.NOT_ELIGIBLE, Kind.MORE_INFORMATION})

    screening = models.ForeignKey(
        Screening, on_delete=models.PROTECT, related_name="decisions", verbose_name=_("screening")
    )
    submission = models.ForeignKey(
        ScreeningSubmission,
        on_delete=models.PROTECT,
        related_name="decisions",
        verbose_name=_("made on submission"),
    )
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("clinician"),
    )
    kind = models.CharField(_("decision"), max_length=20, choices=Kind.choices)
    note = models.TextField(_("note"))
    at = models.DateTimeField(_("decided at"), default=timezone.now)

    objects = DecisionQuerySet.as_manager()

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["at", "pk"]
        constraints = [
            # One decision per sending of the answers: the decision service
            # locks the screening first, this is the last line under a race.
            models.UniqueConstraint(fields=["submission"], name="decision_one_per_submission"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.at:%Y-%m-%d})"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError(_("A recorded decision cannot be changed: record a new one."))
        super().save(*args, **kwargs)

    def clean(self):
        if self.submission_id is not None and self.submission.screening_id != self.screening_id:
            raise ValidationError(_("A decision is made on a submission of its own screening."))

    @property
    def note_for_client(self) -> str:
        return self.note if self.kind in self.NOTE_FOR_CLIENT else ""


class QuestionnaireResponse(models.Model):
    """A scored PHQ-9 or GAD-7, from a screening or a later follow-up."""

    client = models.ForeignKey(
        ClientProfile,
        on_delete=models.PROTECT,
        related_name="questionnaires",
        verbose_name=_("client"),
    )
    screening = models.ForeignKey(
        Screening,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="questionnaires",
        verbose_name=_("screening"),
    )
    questionnaire = models.CharField(
        _("questionnaire"), max_length=10, choices=[("phq9", "PHQ-9"), ("gad7", "GAD-7")]
    )
    answers = models.JSONField(_("answers"))
    score = models.PositiveSmallIntegerField(_("score"))
    band = models.CharField(_("severity"), max_length=20)
    at = models.DateTimeField(_("answered at"), default=timezone.now)

    class Meta:
        verbose_name = _("questionnaire response")
        verbose_name_plural = _("questionnaire responses")
        ordering = ["-at"]
        indexes = [
            models.Index(fields=["client", "questionnaire", "-at"], name="questionnaire_client_idx")
        ]

    def __str__(self) -> str:
        return f"{self.get_questionnaire_display()} {self.score}"
