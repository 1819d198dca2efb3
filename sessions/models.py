"""Prepare and dosing: the preparation modules, the session preferences, the
versioned consents, the assessment and preparatory appointments, and the
dosing series with everything recorded about each session (dose plan, vitals,
administration, adverse events, notes, discharge, recordings).

Clinical records here are append-only (`clinic.records.AppendOnlyRecord`): a
correction is a new row pointing to the one it corrects, with who, when and
why. Every safety number is a per-clinic setting (`DosingSettings`)."""

import hashlib
import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinic.models import Appointment, Clinic, Course, Language
from clinic.records import AppendOnlyRecord

# --- The clinic's settings -------------------------------------------------------------


class DosingSettings(models.Model):
    """A clinic's safety numbers and day-of instructions. A clinic without a
    row uses the defaults shown (the clinic's published protocol)."""

    clinic = models.OneToOneField(
        Clinic, on_delete=models.CASCADE, related_name="dosing_settings", verbose_name=_("clinic")
    )
    session_minutes = models.PositiveSmallIntegerField(
        _("dosing session length, monitoring included (minutes)"), default=180
    )
    cleaning_buffer_minutes = models.PositiveSmallIntegerField(
        _("room cleaning after a dosing session (minutes)"), default=30
    )
    max_series_sessions = models.PositiveSmallIntegerField(
        _("most dosing sessions in a series"), default=6
    )
    min_days_between_sessions = models.PositiveSmallIntegerField(
        _("fewest days between two dosing sessions"), default=5
    )
    confirm_systolic = models.PositiveSmallIntegerField(
        _("systolic pressure above which a medical practitioner must confirm"), default=140
    )
    confirm_diastolic = models.PositiveSmallIntegerField(
        _("diastolic pressure above which a medical practitioner must confirm"), default=90
    )
    defer_systolic = models.PositiveSmallIntegerField(
        _("systolic pressure at or above which the session is deferred"), default=160
    )
    defer_diastolic = models.PositiveSmallIntegerField(
        _("diastolic pressure at or above which the session is deferred"), default=100
    )
    post_dose_vitals_minutes = models.PositiveSmallIntegerField(
        _("vitals again this long after the dose (minutes)"), default=40
    )
    recording_retention_days = models.PositiveSmallIntegerField(
        _("keep session recordings for (days)"), default=90
    )
    recording_max_megabytes = models.PositiveIntegerField(
        _("largest recording accepted (MB)"), default=4096
    )
    portal_shows_dose_plan = models.BooleanField(
        _("clients see their dose plan in the portal"), default=False
    )
    day_of_instructions_fr = models.TextField(
        _("day-of instructions (French)"),
        default=(
            "Ne mangez rien dans les 4 heures qui précèdent la séance et ne buvez que de l’eau "
            "dans les 2 heures avant. Organisez votre retour avec une personne de confiance : "
            "vous ne pourrez pas conduire avant le lendemain. Portez des vêtements confortables."
        ),
    )
    day_of_instructions_en = models.TextField(
        _("day-of instructions (English)"),
        default=(
            "Do not eat for 4 hours before the session and drink only water in the last 2 hours. "
            "Arrange for someone you trust to take you home: you cannot drive until the next "
            "day. Wear comfortable clothes."
        ),
    )

    class Meta:
        verbose_name = _("dosing settings")
        verbose_name_plural = _("dosing settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(session_minutes__gte=60, session_minutes__lte=600),
                name="dosing_settings_session_length_sane",
            ),
            models.CheckConstraint(
                condition=Q(max_series_sessions__gte=1, max_series_sessions__lte=24),
                name="dosing_settings_series_sane",
            ),
            models.CheckConstraint(
                condition=Q(confirm_systolic__lt=F("defer_systolic"))
                & Q(confirm_diastolic__lt=F("defer_diastolic")),
                name="dosing_settings_confirm_below_defer",
            ),
        ]

    def __str__(self) -> str:
        return str(self.clinic)

    def day_of_instructions(self, language: str) -> str:
        return (
            self.day_of_instructions_fr if language == Language.FR else self.day_of_instructions_en
        )


# --- Preparation modules ---------------------------------------------------------------


class PreparationModule(models.Model):
    """A short piece of preparation (what to expect, set and setting...). Its
    content lives in versions: a change is a new version, which the client
    reads again (a completion counts for the version read)."""

    slug = models.SlugField(_("short name"), unique=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    required = models.BooleanField(_("required before dosing"), default=True)
    is_active = models.BooleanField(_("shown to clients"), default=True)

    class Meta:
        verbose_name = _("preparation module")
        verbose_name_plural = _("preparation modules")
        ordering = ["order", "slug"]

    def __str__(self) -> str:
        return self.slug


class PreparationModuleVersion(AppendOnlyRecord):
    module = models.ForeignKey(
        PreparationModule,
        on_delete=models.PROTECT,
        related_name="versions",
        verbose_name=_("module"),
    )
    number = models.PositiveSmallIntegerField(_("version"))
    title_fr = models.CharField(_("title (French)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200)
    body_fr = models.TextField(_("text (French)"))
    body_en = models.TextField(_("text (English)"))
    published_at = models.DateTimeField(_("published at"), default=timezone.now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("published by"),
    )

    class Meta:
        verbose_name = _("preparation module version")
        verbose_name_plural = _("preparation module versions")
        ordering = ["module", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["module", "number"], name="module_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.module} v{self.number}"

    def title(self, language: str) -> str:
        return self.title_fr if language == Language.FR else self.title_en

    def body(self, language: str) -> str:
        return self.body_fr if language == Language.FR else self.body_en


class ModuleCompletion(AppendOnlyRecord):
    """The client marked this version of a module as read."""

    course = models.ForeignKey(
        Course,
        on_delete=models.PROTECT,
        related_name="module_completions",
        verbose_name=_("course"),
    )
    version = models.ForeignKey(
        PreparationModuleVersion,
        on_delete=models.PROTECT,
        related_name="completions",
        verbose_name=_("module version"),
    )
    completed_at = models.DateTimeField(_("completed at"), default=timezone.now)

    class Meta:
        verbose_name = _("module completion")
        verbose_name_plural = _("module completions")
        constraints = [
            models.UniqueConstraint(fields=["course", "version"], name="module_completed_once"),
        ]

    def __str__(self) -> str:
        return f"{self.version} · {self.completed_at:%Y-%m-%d}"


# --- Session preferences -----------------------------------------------------------------


class SessionPreferences(models.Model):
    """Set and setting: what the client would like in the room, and who takes
    them home. Shown to the session's staff; the client changes it freely."""

    class EyeShades(models.TextChoices):
        YES = "yes", _("Yes, eye shades")
        NO = "no", _("No eye shades")
        UNSURE = "unsure", _("Not sure yet")

    class Sound(models.TextChoices):
        MUSIC = "music", _("Music")
        SILENCE = "silence", _("Silence")
        EITHER = "either", _("Either")

    course = models.OneToOneField(
        Course,
        on_delete=models.PROTECT,
        related_name="session_preferences",
        verbose_name=_("course"),
    )
    eye_shades = models.CharField(
        _("eye shades"), max_length=10, choices=EyeShades.choices, default=EyeShades.UNSURE
    )
    sound = models.CharField(
        _("music or silence"), max_length=10, choices=Sound.choices, default=Sound.EITHER
    )
    escort_name = models.CharField(_("who takes you home"), max_length=120, blank=True)
    escort_phone = models.CharField(_("their phone"), max_length=30, blank=True)
    notes = models.TextField(_("anything the team should know"), blank=True, max_length=2000)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("session preferences")
        verbose_name_plural = _("session preferences")

    def __str__(self) -> str:
        return str(self.course)


# --- Consent -------------------------------------------------------------------------


def text_sha256(title: str, body: str) -> str:
    """The fingerprint of the exact text a person was shown and signed."""
    return hashlib.sha256(f"{title}\n\n{body}".encode()).hexdigest()


class ConsentDocument(AppendOnlyRecord):
    """One version of a consent text in one language. Never edited: a new
    wording is a new version, in force from its date, and asks every client
    for a new signature before their next dosing session."""

    class Kind(models.TextChoices):
        TREATMENT = "treatment", _("Informed consent to treatment")
        FILMING = "filming", _("Consent to the filming of sessions")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    version = models.PositiveSmallIntegerField(_("version"))
    language = models.CharField(_("language"), max_length=2, choices=Language.choices)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    sha256 = models.CharField(_("SHA-256 of the text"), max_length=64, editable=False)
    in_force_from = models.DateTimeField(_("in force from"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        verbose_name = _("consent document")
        verbose_name_plural = _("consent documents")
        ordering = ["kind", "-version", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "version", "language"], name="consent_document_unique_version"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} v{self.version} ({self.language})"

    def save(self, *args, **kwargs):
        self.sha256 = text_sha256(self.title, self.body)
        super().save(*args, **kwargs)


class Consent(AppendOnlyRecord):
    """A client's answer to a consent document: signed (typed full name and
    agreement), declined, or a later withdrawal of a signed one. Keeps the
    exact version, a SHA-256 of the text shown, the language, time and IP."""

    class Decision(models.TextChoices):
        SIGNED = "signed", _("signed")
        DECLINED = "declined", _("declined")
        WITHDRAWN = "withdrawn", _("withdrawn")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    course = models.ForeignKey(
        Course, on_delete=models.PROTECT, related_name="consents", verbose_name=_("course")
    )
    document = models.ForeignKey(
        ConsentDocument, on_delete=models.PROTECT, related_name="+", verbose_name=_("document")
    )
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices)
    typed_name = models.CharField(_("name typed as signature"), max_length=200, blank=True)
    text_sha256 = models.CharField(_("SHA-256 of the text shown"), max_length=64)
    language = models.CharField(_("language shown"), max_length=2, choices=Language.choices)
    at = models.DateTimeField(_("at"), default=timezone.now)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    withdraws = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="withdrawal",
        verbose_name=_("withdraws"),
    )

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(decision="signed") | ~Q(typed_name=""),
                name="consent_signature_has_a_name",
            ),
            models.CheckConstraint(
                condition=Q(decision="withdrawn", withdraws__isnull=False)
                | (~Q(decision="withdrawn") & Q(withdraws__isnull=True)),
                name="consent_withdrawal_points_to_its_signature",
            ),
        ]
        indexes = [models.Index(fields=["course", "at"], name="consent_course_at_idx")]

    def __str__(self) -> str:
        return f"{self.document} · {self.get_decision_display()}"


# --- Assessment and preparatory appointments ------------------------------------------------


class PreparationAppointment(models.Model):
    """A medical assessment or a preparatory therapy session: the calendar
    holds the time, the people and the room; this row ties it to the course."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    appointment = models.OneToOneField(
        Appointment,
        on_delete=models.PROTECT,
        related_name="preparation",
        verbose_name=_("appointment"),
    )
    course = models.ForeignKey(
        Course,
        on_delete=models.PROTECT,
        related_name="preparation_appointments",
        verbose_name=_("course"),
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("booked by"),
    )
    created_at = models.DateTimeField(_("booked at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("preparation appointment")
        verbose_name_plural = _("preparation appointments")

    def __str__(self) -> str:
        return str(self.appointment)


class AssessmentSignOff(AppendOnlyRecord):
    """A medical practitioner's conclusion on a held medical assessment:
    cleared for dosing or not, with a note. A changed conclusion is a new row
    that corrects the previous one."""

    assessment = models.ForeignKey(
        PreparationAppointment,
        on_delete=models.PROTECT,
        related_name="sign_offs",
        verbose_name=_("assessment"),
    )
    cleared = models.BooleanField(_("cleared for dosing"))
    note = models.TextField(_("note"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    corrects = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="correction",
        verbose_name=_("corrects"),
    )
    reason = models.TextField(_("why it was corrected"), blank=True)
    # The form's one-time token: the same form sent twice records once.
    submission = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    class Meta:
        verbose_name = _("assessment sign-off")
        verbose_name_plural = _("assessment sign-offs")
        ordering = ["at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(corrects__isnull=True) | ~Q(reason=""),
                name="signoff_correction_has_reason",
            ),
            # One first conclusion per assessment; each later one corrects the
            # one before (`corrects` is one-to-one): a single line of history.
            models.UniqueConstraint(
                fields=["assessment"],
                condition=Q(corrects__isnull=True),
                name="signoff_one_first_per_assessment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.assessment} · {'cleared' if self.cleared else 'not cleared'}"


# --- Dosing ---------------------------------------------------------------------------------


class Route(models.TextChoices):
    """The clinic uses these two routes only (its published practice)."""

    NASAL_SPRAY = "nasal_spray", _("Nasal spray")
    SUBLINGUAL_TABLET = "sublingual_tablet", _("Rapid-dissolving sublingual tablet")


DOSE_MG = {
    "max_digits": 6,
    "decimal_places": 2,
    "validators": [MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("1000"))],
}


class DosePlan(AppendOnlyRecord):
    """The dose set for the client by a medical practitioner. Every change is
    a new row that replaces the one before (who, when, before and after)."""

    course = models.ForeignKey(
        Course, on_delete=models.PROTECT, related_name="dose_plans", verbose_name=_("course")
    )
    route = models.CharField(_("route"), max_length=20, choices=Route.choices)
    dose_mg = models.DecimalField(_("dose (mg)"), **DOSE_MG)
    notes = models.TextField(_("notes"), blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    replaces = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replaced_by",
        verbose_name=_("replaces"),
    )
    # The form's one-time token: the same form sent twice records once.
    submission = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    class Meta:
        verbose_name = _("dose plan")
        verbose_name_plural = _("dose plans")
        ordering = ["at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(dose_mg__gt=0), name="dose_plan_positive"),
            # One first plan per course; each change replaces the one before
            # (`replaces` is one-to-one): a single line of history, one in force.
            models.UniqueConstraint(
                fields=["course"],
                condition=Q(replaces__isnull=True),
                name="dose_plan_one_first_per_course",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_route_display()} {self.dose_mg} mg"


class DosingSeries(models.Model):
    """A course's planned series of dosing sessions. It ends when its last
    session is discharged, or earlier when a clinician ends it with a reason
    (recorded once)."""

    course = models.OneToOneField(
        Course, on_delete=models.PROTECT, related_name="dosing_series", verbose_name=_("course")
    )
    planned_sessions = models.PositiveSmallIntegerField(_("sessions planned"))
    planned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("planned by"),
    )
    planned_at = models.DateTimeField(_("planned at"), default=timezone.now)
    ended_at = models.DateTimeField(_("ended early at"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ended by"),
    )
    end_reason = models.TextField(_("why it ended early"), blank=True)

    class Meta:
        verbose_name = _("dosing series")
        verbose_name_plural = _("dosing series")
        constraints = [
            models.CheckConstraint(
                condition=Q(planned_sessions__gte=1), name="series_plans_a_session"
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True)
                | (Q(ended_by__isnull=False) & ~Q(end_reason="")),
                name="series_end_has_who_and_why",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.course} · {self.planned_sessions}"


class DosingSession(models.Model):
    """One dosing session of a series: the calendar holds the dosing room,
    the client, a therapist and a medical practitioner; this row holds what
    happened. `outcome` is set once: discharged (dose given and the client
    sent home safely) or deferred (not given, e.g. blood pressure too high)."""

    class Outcome(models.TextChoices):
        DISCHARGED = "discharged", _("discharged")
        DEFERRED = "deferred", _("deferred")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    appointment = models.OneToOneField(
        Appointment,
        on_delete=models.PROTECT,
        related_name="dosing_session",
        verbose_name=_("appointment"),
    )
    series = models.ForeignKey(
        DosingSeries, on_delete=models.PROTECT, related_name="sessions", verbose_name=_("series")
    )
    outcome = models.CharField(
        _("outcome"), max_length=12, choices=Outcome.choices, blank=True, default=""
    )
    outcome_at = models.DateTimeField(_("outcome recorded at"), null=True, blank=True)
    deferral_reason = models.TextField(_("why it was deferred"), blank=True)
    deferred_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("deferred by"),
    )

    class Meta:
        verbose_name = _("dosing session")
        verbose_name_plural = _("dosing sessions")
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome="", outcome_at__isnull=True)
                | (~Q(outcome="") & Q(outcome_at__isnull=False)),
                name="session_outcome_has_a_time",
            ),
            models.CheckConstraint(
                condition=~Q(outcome="deferred")
                | (Q(deferred_by__isnull=False) & ~Q(deferral_reason="")),
                name="session_deferral_has_who_and_why",
            ),
        ]

    def __str__(self) -> str:
        return str(self.appointment)


class _SessionEntry(AppendOnlyRecord):
    """Something recorded during a dosing session, by someone, at a time;
    a correction is a new entry that points to the one it corrects."""

    session = models.ForeignKey(
        DosingSession, on_delete=models.PROTECT, related_name="+", verbose_name=_("session")
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    corrects = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="correction",
        verbose_name=_("corrects"),
    )
    correction_reason = models.TextField(_("why it was corrected"), blank=True)
    # The form's one-time token: the same form sent twice records once.
    submission = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    class Meta:
        abstract = True
        ordering = ["at", "pk"]


class VitalsReading(_SessionEntry):
    class Moment(models.TextChoices):
        PRE_DOSE = "pre_dose", _("before the dose")
        POST_DOSE = "post_dose", _("after the dose")
        DISCHARGE = "discharge", _("at discharge")

    session = models.ForeignKey(
        DosingSession, on_delete=models.PROTECT, related_name="vitals", verbose_name=_("session")
    )
    moment = models.CharField(_("when"), max_length=10, choices=Moment.choices)
    # Physiological bounds: anything outside is a typing error, not a reading.
    systolic = models.PositiveSmallIntegerField(
        _("systolic (mmHg)"), validators=[MinValueValidator(50), MaxValueValidator(260)]
    )
    diastolic = models.PositiveSmallIntegerField(
        _("diastolic (mmHg)"), validators=[MinValueValidator(30), MaxValueValidator(160)]
    )
    heart_rate = models.PositiveSmallIntegerField(
        _("heart rate (per minute)"), validators=[MinValueValidator(20), MaxValueValidator(250)]
    )
    spo2 = models.PositiveSmallIntegerField(
        _("SpO₂ (%)"), validators=[MinValueValidator(50), MaxValueValidator(100)]
    )

    class Meta(_SessionEntry.Meta):
        verbose_name = _("vitals reading")
        verbose_name_plural = _("vitals readings")
        constraints = [
            models.CheckConstraint(
                condition=Q(systolic__gte=50, systolic__lte=260)
                & Q(diastolic__gte=30, diastolic__lte=160)
                & Q(heart_rate__gte=20, heart_rate__lte=250)
                & Q(spo2__gte=50, spo2__lte=100)
                & Q(systolic__gt=F("diastolic")),
                name="vitals_physiological",
            ),
            models.CheckConstraint(
                condition=Q(corrects__isnull=True) | ~Q(correction_reason=""),
                name="vitals_correction_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.systolic}/{self.diastolic} · {self.heart_rate} · {self.spo2}%"


class VitalsOverride(AppendOnlyRecord):
    """A medical practitioner's explicit go-ahead to give the dose despite a
    pre-dose blood pressure above the confirmation threshold, with a reason."""

    session = models.ForeignKey(
        DosingSession, on_delete=models.PROTECT, related_name="overrides", verbose_name=_("session")
    )
    reading = models.ForeignKey(
        VitalsReading, on_delete=models.PROTECT, related_name="+", verbose_name=_("reading")
    )
    reason = models.TextField(_("reason"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    # The form's one-time token: the same form sent twice records once.
    submission = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    class Meta:
        verbose_name = _("blood pressure confirmation")
        verbose_name_plural = _("blood pressure confirmations")
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="override_has_reason"),
            models.UniqueConstraint(fields=["reading"], name="override_once_per_reading"),
        ]

    def __str__(self) -> str:
        return f"{self.session} · {self.by}"


class Administration(_SessionEntry):
    """The dose given: when, by which route, how much, by whom. A dose that
    differs from the plan carries the reason."""

    session = models.ForeignKey(
        DosingSession,
        on_delete=models.PROTECT,
        related_name="administrations",
        verbose_name=_("session"),
    )
    given_at = models.DateTimeField(_("given at"))
    route = models.CharField(_("route"), max_length=20, choices=Route.choices)
    dose_mg = models.DecimalField(_("dose given (mg)"), **DOSE_MG)
    plan = models.ForeignKey(
        DosePlan, on_delete=models.PROTECT, related_name="+", verbose_name=_("plan in force")
    )
    differs_reason = models.TextField(_("why it differs from the plan"), blank=True)

    class Meta(_SessionEntry.Meta):
        verbose_name = _("administration")
        verbose_name_plural = _("administrations")
        constraints = [
            models.CheckConstraint(condition=Q(dose_mg__gt=0), name="administration_positive"),
            models.CheckConstraint(
                condition=Q(corrects__isnull=True) | ~Q(correction_reason=""),
                name="administration_correction_has_reason",
            ),
            # One dose per session: a change is a correction of it.
            models.UniqueConstraint(
                fields=["session"],
                condition=Q(corrects__isnull=True),
                name="administration_one_per_session",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_route_display()} {self.dose_mg} mg"


class AdverseEvent(_SessionEntry):
    class Kind(models.TextChoices):
        NAUSEA = "nausea", _("Nausea or vomiting")
        ANXIETY = "anxiety", _("Anxiety or panic")
        BLOOD_PRESSURE = "blood_pressure", _("Raised blood pressure")
        DISSOCIATION = "dissociation", _("Distressing dissociation")
        CONFUSION = "confusion", _("Confusion or agitation")
        BREATHING = "breathing", _("Breathing difficulty")
        OTHER = "other", _("Other")

    class Severity(models.TextChoices):
        MILD = "mild", _("mild")
        MODERATE = "moderate", _("moderate")
        SEVERE = "severe", _("severe")

    session = models.ForeignKey(
        DosingSession,
        on_delete=models.PROTECT,
        related_name="adverse_events",
        verbose_name=_("session"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    description = models.TextField(_("what happened"), blank=True)
    action_taken = models.TextField(_("action taken"))

    class Meta(_SessionEntry.Meta):
        verbose_name = _("adverse event")
        verbose_name_plural = _("adverse events")
        constraints = [
            models.CheckConstraint(
                condition=Q(corrects__isnull=True) | ~Q(correction_reason=""),
                name="adverse_event_correction_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_severity_display()})"


class SessionNote(_SessionEntry):
    """A therapist's note on the session."""

    session = models.ForeignKey(
        DosingSession, on_delete=models.PROTECT, related_name="notes", verbose_name=_("session")
    )
    text = models.TextField(_("note"))

    class Meta(_SessionEntry.Meta):
        verbose_name = _("session note")
        verbose_name_plural = _("session notes")
        constraints = [
            models.CheckConstraint(
                condition=Q(corrects__isnull=True) | ~Q(correction_reason=""),
                name="session_note_correction_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.session} · {self.at:%Y-%m-%d %H:%M}"


class Discharge(AppendOnlyRecord):
    """The discharge checklist, all of it ticked: it closes the session."""

    session = models.OneToOneField(
        DosingSession, on_delete=models.PROTECT, related_name="discharge", verbose_name=_("session")
    )
    alert_and_oriented = models.BooleanField(_("alert and oriented"))
    vitals_in_range = models.BooleanField(_("vitals back within range"))
    escort_or_ride = models.BooleanField(_("escort present or ride confirmed"))
    no_driving_acknowledged = models.BooleanField(
        _("no driving until the next day: instruction acknowledged")
    )
    note = models.TextField(_("note"), blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    # The form's one-time token: the same form sent twice records once.
    submission = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    class Meta:
        verbose_name = _("discharge")
        verbose_name_plural = _("discharges")
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    alert_and_oriented=True,
                    vitals_in_range=True,
                    escort_or_ride=True,
                    no_driving_acknowledged=True,
                ),
                name="discharge_checklist_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.session} · {self.at:%Y-%m-%d %H:%M}"


# --- Recordings ------------------------------------------------------------------------


class Recording(models.Model):
    """A film of a dosing session, taken only with the client's active
    consent, kept in private storage (STORAGES["recordings"]) until its
    retention date or the consent's withdrawal, then deleted by a worker.

    The row stays after the file is deleted: when, why, and the checksum of
    what was kept (services/recordings.py)."""

    class DeletionCause(models.TextChoices):
        CONSENT_WITHDRAWN = "consent_withdrawn", _("filming consent withdrawn")
        RETENTION = "retention", _("retention period over")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    session = models.ForeignKey(
        DosingSession,
        on_delete=models.PROTECT,
        related_name="recordings",
        verbose_name=_("session"),
    )
    consent = models.ForeignKey(
        Consent, on_delete=models.PROTECT, related_name="+", verbose_name=_("filming consent")
    )
    storage_name = models.CharField(_("stored as"), max_length=200, editable=False)
    sha256 = models.CharField(_("SHA-256"), max_length=64, editable=False)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    content_type = models.CharField(_("type"), max_length=100)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    retain_until = models.DateField(_("kept until"))
    deletion_due_at = models.DateTimeField(_("deletion queued at"), null=True, blank=True)
    deletion_cause = models.CharField(
        _("why it is deleted"), max_length=30, choices=DeletionCause.choices, blank=True
    )
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("recording")
        verbose_name_plural = _("recordings")
        permissions = [("download_recording", _("Can watch or download session recordings"))]
        indexes = [
            models.Index(
                fields=["retain_until"],
                condition=Q(deleted_at__isnull=True),
                name="recording_kept_until_idx",
            ),
            models.Index(
                fields=["deletion_due_at"],
                condition=Q(deleted_at__isnull=True, deletion_due_at__isnull=False),
                name="recording_deletion_due_idx",
            ),
        ]
        constraints = [
            # The same film twice for one session is one recording (a double
            # submit, or the same file chosen again), while it is kept.
            models.UniqueConstraint(
                fields=["session", "sha256"],
                condition=Q(deleted_at__isnull=True),
                name="recording_once_per_session",
            ),
            # Deleted only once queued, and always with its cause.
            models.CheckConstraint(
                condition=Q(deletion_due_at__isnull=True, deletion_cause="")
                | (Q(deletion_due_at__isnull=False) & ~Q(deletion_cause="")),
                name="recording_deletion_has_cause",
            ),
            models.CheckConstraint(
                condition=Q(deleted_at__isnull=True) | Q(deletion_due_at__isnull=False),
                name="recording_deleted_once_queued",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.session} · {self.uploaded_at:%Y-%m-%d}"

    @property
    def is_kept(self) -> bool:
        """Still in storage and not queued for deletion: the only state in
        which anyone may watch it."""
        return self.deleted_at is None and self.deletion_due_at is None
