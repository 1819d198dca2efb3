"""Connect: when intake clinicians can take calls, and the calls booked."""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from clinic.models import Appointment, Clinic, Concern, Course, Language
from clinic.records import MSG_APPEND_ONLY, AppendOnlyRecord


class BookingRules(models.Model):
    """A clinic's rules for intake calls booked online."""

    clinic = models.OneToOneField(
        Clinic, on_delete=models.CASCADE, related_name="booking_rules", verbose_name=_("clinic")
    )
    call_minutes = models.PositiveSmallIntegerField(_("call length (minutes)"), default=30)
    buffer_minutes = models.PositiveSmallIntegerField(
        _("buffer after each call (minutes)"), default=10
    )
    minimum_notice_hours = models.PositiveSmallIntegerField(_("minimum notice (hours)"), default=24)
    horizon_days = models.PositiveSmallIntegerField(_("booking horizon (days)"), default=42)
    change_cutoff_hours = models.PositiveSmallIntegerField(
        _("hours before the call when changes by link stop"),
        default=24,
        help_text=_("A client cannot reschedule or cancel by link this close to the call."),
    )

    class Meta:
        verbose_name = _("booking rules")
        verbose_name_plural = _("booking rules")
        constraints = [
            models.CheckConstraint(
                condition=Q(call_minutes__gte=10, call_minutes__lte=180),
                name="rules_call_length_sane",
            ),
            models.CheckConstraint(
                condition=Q(horizon_days__gte=1, horizon_days__lte=365), name="rules_horizon_sane"
            ),
        ]

    def __str__(self) -> str:
        return str(self.clinic)


class AvailabilityWindow(models.Model):
    """A weekly window, in the clinic's local time, when a staff member takes intake calls."""

    class Weekday(models.IntegerChoices):
        # With a context: capitalised labels in a list must not replace Django's
        # own weekday names, which dates use mid-sentence ("le jeudi 4 juin").
        MONDAY = 0, pgettext_lazy("weekday in a list", "Monday")
        TUESDAY = 1, pgettext_lazy("weekday in a list", "Tuesday")
        WEDNESDAY = 2, pgettext_lazy("weekday in a list", "Wednesday")
        THURSDAY = 3, pgettext_lazy("weekday in a list", "Thursday")
        FRIDAY = 4, pgettext_lazy("weekday in a list", "Friday")
        SATURDAY = 5, pgettext_lazy("weekday in a list", "Saturday")
        SUNDAY = 6, pgettext_lazy("weekday in a list", "Sunday")

    clinic = models.ForeignKey(
        Clinic, on_delete=models.CASCADE, related_name="availability", verbose_name=_("clinic")
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="availability",
        limit_choices_to={"staff_profile__isnull": False},
        verbose_name=_("staff member"),
    )
    weekday = models.PositiveSmallIntegerField(_("day"), choices=Weekday.choices)
    start_time = models.TimeField(_("from (local time)"))
    end_time = models.TimeField(_("to (local time)"))
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    class Meta:
        verbose_name = _("availability window")
        verbose_name_plural = _("availability windows")
        ordering = ["clinic", "staff", "weekday", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=models.F("start_time")), name="window_ends_after_start"
            ),
        ]
        indexes = [models.Index(fields=["clinic", "weekday"], name="window_clinic_weekday_idx")]

    def __str__(self) -> str:
        return f"{self.staff} {self.get_weekday_display()} {self.start_time:%H:%M}–{self.end_time:%H:%M}"

    def clean(self) -> None:
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValidationError({"valid_until": _("The end date is before the start date.")})


class AvailabilityException(models.Model):
    """Time when calls cannot be booked: a staff member's time off, or (with
    no staff member) a closure of the whole clinic such as a statutory holiday."""

    clinic = models.ForeignKey(
        Clinic, on_delete=models.CASCADE, related_name="closures", verbose_name=_("clinic")
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="time_off",
        limit_choices_to={"staff_profile__isnull": False},
        verbose_name=_("staff member"),
        help_text=_("Leave empty when the whole clinic is closed."),
    )
    start = models.DateTimeField(_("starts"))
    end = models.DateTimeField(_("ends"))
    reason = models.CharField(_("reason"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("time off or closure")
        verbose_name_plural = _("time off and closures")
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")), name="exception_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.staff or self.clinic}: {self.start:%Y-%m-%d} {self.reason}"


class IntakeCall(models.Model):
    """The free first call, with what the person told us when booking."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    appointment = models.OneToOneField(
        Appointment,
        on_delete=models.PROTECT,
        related_name="intake_call",
        verbose_name=_("appointment"),
    )
    course = models.ForeignKey(
        Course, on_delete=models.PROTECT, related_name="intake_calls", verbose_name=_("course")
    )
    concern = models.CharField(_("primary concern"), max_length=30, choices=Concern.choices)
    language = models.CharField(_("language of the call"), max_length=2, choices=Language.choices)
    phone = models.CharField(_("phone"), max_length=30)
    consent_to_contact = models.BooleanField(_("consents to be contacted"))
    # The booking form's one-time token: the same form sent twice books once.
    submission = models.UUIDField(unique=True, editable=False)
    created_at = models.DateTimeField(_("booked at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("intake call")
        verbose_name_plural = _("intake calls")

    def __str__(self) -> str:
        return f"{self.appointment}"


class AppendOnlyQuerySet(models.QuerySet):
    """Bulk writes, which would go round the record's save() and delete(),
    are refused too."""

    def update(self, **kwargs):
        raise ValidationError(MSG_APPEND_ONLY)

    def delete(self):
        raise ValidationError(MSG_APPEND_ONLY)


class IntakeCallOutcome(AppendOnlyRecord):
    """What happened at an intake call, as a clinician recorded it: held or
    no-show, with notes. A clinical record, so append-only (save() and
    delete() refuse an existing row, and so do bulk writes): the first
    record is made once, and a correction is a new row that points to the
    one it corrects, with who, when and why. The call's outcome is the last
    row of that chain; its appointment's status says the same (both are
    written in one transaction by intake.services)."""

    class Outcome(models.TextChoices):
        HELD = "held", _("held")
        NO_SHOW = "no_show", _("no-show")

    call = models.ForeignKey(
        IntakeCall, on_delete=models.PROTECT, related_name="outcomes", verbose_name=_("intake call")
    )
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    notes = models.TextField(_("notes"), blank=True)
    # Empty only on outcomes recorded before the app kept who recorded them
    # (migration 0005 carried them over); the services always set it.
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    at = models.DateTimeField(_("recorded at"), default=timezone.now)
    # One-to-one: a record is corrected at most once, so the history is a
    # single chain and two corrections of the same record cannot both stand.
    corrects = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="correction",
        verbose_name=_("corrects"),
    )
    reason = models.TextField(_("why it was corrected"), blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("intake call outcome")
        verbose_name_plural = _("intake call outcomes")
        # The order they were made in: a correction always follows the
        # record it corrects (its clock time may not, after a clock change).
        ordering = ["pk"]
        constraints = [
            # An outcome is recorded once: every later row is a correction.
            models.UniqueConstraint(
                fields=["call"],
                condition=Q(corrects__isnull=True),
                name="intake_outcome_recorded_once",
            ),
            models.CheckConstraint(
                condition=Q(corrects__isnull=True) | ~Q(reason=""),
                name="intake_outcome_correction_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} ({self.at:%Y-%m-%d %H:%M})"

    def clean(self) -> None:
        if self.corrects_id and self.corrects.call_id != self.call_id:
            raise ValidationError(_("A correction must be of an outcome of the same call."))


class BookingRequest(models.Model):
    """A visitor's request for an intake call, waiting for them to open the
    link e-mailed to the address they gave: nothing is booked, and no account
    looked at, until then. The link carries only a random token; this row
    keeps its SHA-256 hash, so the database alone cannot rebuild a link. A
    request is purged once it expires (intake.tasks), confirmed or not: a
    confirmed one lives on as the intake call it booked."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    clinic = models.ForeignKey(
        Clinic, on_delete=models.CASCADE, related_name="+", verbose_name=_("clinic")
    )
    start = models.DateTimeField(_("time asked for"))
    first_name = models.CharField(_("first name"), max_length=150)
    last_name = models.CharField(_("last name"), max_length=150)
    email = models.EmailField(_("e-mail"))
    phone = models.CharField(_("phone"), max_length=30)
    language = models.CharField(_("language of the call"), max_length=2, choices=Language.choices)
    concern = models.CharField(_("primary concern"), max_length=30, choices=Concern.choices)
    consent_to_contact = models.BooleanField(_("consents to be contacted"))
    # The booking form's one-time token: the same form sent twice is one
    # request, and the booking it confirms is made once (IntakeCall.submission).
    submission = models.UUIDField(unique=True, editable=False)
    token_hash = models.CharField(_("hash of the link's token"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("asked at"), default=timezone.now, editable=False)
    expires_at = models.DateTimeField(_("link expires at"))
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("booking request")
        verbose_name_plural = _("booking requests")
        indexes = [models.Index(fields=["expires_at"], name="bookingrequest_expires_idx")]

    def __str__(self) -> str:
        return f"{self.email} · {self.start:%Y-%m-%d %H:%M}"


class InterestRegistrationQuerySet(models.QuerySet):
    def confirmed(self):
        """The registrations that count: the address's owner confirmed them."""
        return self.filter(confirmed_at__isnull=False)

    def pending(self):
        return self.filter(confirmed_at__isnull=True)


class InterestRegistration(models.Model):
    """Someone who wants to hear when a program under development opens.

    Double opt-in, as Canada's anti-spam law (CASL) expects for news from
    the clinic: a registration counts only once the owner of the address
    opened the link e-mailed to it (`confirmed_at`); until then it is
    pending, and it is purged when its link expires. One registration per
    address and program: a later one never changes a confirmed one, and
    replaces a pending one (whose link then dies). `created_at`,
    `consent_page` and `consent_wording` are the record of consent: when,
    on which page and to which words it was given."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=150)
    # Stored in lower case: one address, however it is typed.
    email = models.EmailField(_("e-mail"))
    concern = models.CharField(_("program"), max_length=30, choices=Concern.choices)
    clinic = models.ForeignKey(
        Clinic, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("clinic")
    )
    language = models.CharField(_("language"), max_length=2, choices=Language.choices)
    consent_to_contact = models.BooleanField(_("consents to be contacted"))
    created_at = models.DateTimeField(_("registered at"), default=timezone.now, editable=False)
    consent_page = models.CharField(_("page where consent was given"), max_length=300, blank=True)
    consent_wording = models.TextField(_("consent as worded on that page"), blank=True)
    # The SHA-256 of the confirmation link's token: the link itself is only in the e-mail.
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    expires_at = models.DateTimeField(_("confirmation link expires at"))
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)

    objects = InterestRegistrationQuerySet.as_manager()

    class Meta:
        verbose_name = _("interest registration")
        verbose_name_plural = _("interest registrations")
        constraints = [
            models.UniqueConstraint(
                Lower("email"), "concern", name="interest_once_per_address_and_program"
            ),
        ]
        indexes = [
            models.Index(
                fields=["expires_at"],
                condition=Q(confirmed_at__isnull=True),
                name="interest_pending_expires_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} · {self.get_concern_display()}"

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None
