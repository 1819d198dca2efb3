"""The core domain every stage app builds on.

Clinic sites, rooms, people (users, staff and client profiles), the course a
client follows through the journey and its events, the access log, and the
outbox that carries every piece of work that happens later.
"""

import uuid
import zoneinfo
from datetime import date, datetime, timedelta

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _


class Province(models.TextChoices):
    QC = "QC", _("Quebec")
    BC = "BC", _("British Columbia")


# Minimum age for treatment, from the clinic's published criteria.
MINIMUM_AGE_BY_PROVINCE = {Province.QC: 18, Province.BC: 19}


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("“%(value)s” is not a known time zone."), params={"value": value})


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


class Language(models.TextChoices):
    FR = "fr", _("French")
    EN = "en", _("English")


class User(AbstractUser):
    """A person who signs in: e-mail is the login."""

    username = None
    email = models.EmailField(_("e-mail address"), unique=True)
    preferred_language = models.CharField(
        _("preferred language"), max_length=2, choices=Language.choices, default=Language.FR
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            # One account per address whatever its capitals (Alex@ and alex@ are one person).
            models.UniqueConstraint(Lower("email"), name="user_email_unique_ci"),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.email


class Clinic(models.Model):
    slug = models.SlugField(_("short name"), unique=True)
    name = models.CharField(_("name"), max_length=120)
    province = models.CharField(_("province"), max_length=2, choices=Province.choices)
    time_zone = models.CharField(_("time zone"), max_length=64, validators=[validate_time_zone])
    street_address = models.CharField(_("street address"), max_length=200)
    city = models.CharField(_("city"), max_length=100)
    postal_code = models.CharField(_("postal code"), max_length=10)
    phone = models.CharField(_("phone"), max_length=30)
    email = models.EmailField(_("e-mail"))
    minimum_client_age = models.PositiveSmallIntegerField(
        _("minimum client age"),
        help_text=_("18 in Quebec, 19 in British Columbia."),
    )
    screening_valid_days = models.PositiveSmallIntegerField(
        _("a screening stays current for (days)"),
        default=183,
        help_text=_("After this, a returning client is asked to fill in the screener again."),
    )

    class Meta:
        verbose_name = _("clinic")
        verbose_name_plural = _("clinics")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(minimum_client_age__gte=18), name="clinic_minimum_age_adult"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        floor = MINIMUM_AGE_BY_PROVINCE.get(self.province)
        if floor and self.minimum_client_age is not None and self.minimum_client_age < floor:
            raise ValidationError(
                {
                    "minimum_client_age": _("The minimum age in this province is %(age)s.")
                    % {"age": floor}
                }
            )

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class Room(models.Model):
    clinic = models.ForeignKey(
        Clinic, on_delete=models.PROTECT, related_name="rooms", verbose_name=_("clinic")
    )
    name = models.CharField(_("name"), max_length=80)
    features = models.CharField(
        _("features"),
        max_length=300,
        blank=True,
        help_text=_("For example: recliner, eye shades, sound system, camera."),
    )
    is_dosing_room = models.BooleanField(_("suitable for dosing sessions"), default=False)
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("room")
        verbose_name_plural = _("rooms")
        ordering = ["clinic", "name"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "name"], name="room_unique_name_per_clinic"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.clinic})"


class StaffRole(models.TextChoices):
    THERAPIST = "therapist", _("Therapist")
    MEDICAL_PRACTITIONER = "medical_practitioner", _("Medical practitioner")
    COORDINATOR = "coordinator", _("Coordinator")
    PRIVACY_OFFICER = "privacy_officer", _("Privacy officer")


CLINICAL_ROLES = frozenset({StaffRole.THERAPIST, StaffRole.MEDICAL_PRACTITIONER})


class StaffProfile(models.Model):
    user = models.OneToOneField(
        User, on_delete=models.PROTECT, related_name="staff_profile", verbose_name=_("user")
    )
    role = models.CharField(_("role"), max_length=30, choices=StaffRole.choices)
    clinics = models.ManyToManyField(Clinic, related_name="staff", verbose_name=_("clinics"))
    profession = models.CharField(_("profession"), max_length=120, blank=True)
    registration_number = models.CharField(
        _("registration number"),
        max_length=60,
        blank=True,
        help_text=_("Number with the professional order or college."),
    )
    criminal_record_check_on = models.DateField(
        _("criminal record check on"), null=True, blank=True
    )
    code_of_ethics_accepted_at = models.DateTimeField(
        _("code of ethics accepted at"), null=True, blank=True
    )
    bio = models.TextField(_("short biography"), blank=True)

    class Meta:
        verbose_name = _("staff profile")
        verbose_name_plural = _("staff profiles")

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"

    @property
    def is_clinician(self) -> bool:
        return self.role in CLINICAL_ROLES


class ClientProfile(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.OneToOneField(
        User, on_delete=models.PROTECT, related_name="client_profile", verbose_name=_("user")
    )
    clinic = models.ForeignKey(
        Clinic, on_delete=models.PROTECT, related_name="clients", verbose_name=_("clinic")
    )
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    emergency_contact_name = models.CharField(
        _("emergency contact name"), max_length=120, blank=True
    )
    emergency_contact_phone = models.CharField(
        _("emergency contact phone"), max_length=30, blank=True
    )
    # Optional uses of the client's information: off until the client turns them on.
    share_for_research = models.BooleanField(_("may be contacted about research"), default=False)
    share_for_marketing = models.BooleanField(_("may receive news from the clinic"), default=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("client profile")
        verbose_name_plural = _("client profiles")

    def __str__(self) -> str:
        return str(self.user)


class Concern(models.TextChoices):
    """What a person comes to the clinic for (the clinic's published focus)."""

    DEPRESSION = "depression", _("Depression")
    ANXIETY = "anxiety", _("Anxiety")
    PTSD = "ptsd", _("Post-traumatic stress disorder (PTSD)")
    ADDICTION = "addiction", _("Addiction")
    EATING_DISORDER = "eating_disorder", _("Eating disorder")
    CHRONIC_PAIN = "chronic_pain", _("Chronic pain")


# Programs still being developed: interest can be registered, not booked.
CONCERNS_UNDER_DEVELOPMENT = frozenset({Concern.EATING_DISORDER, Concern.CHRONIC_PAIN})


class Stage(models.TextChoices):
    CONNECT = "connect", _("Connect")
    PREPARE = "prepare", _("Prepare")
    DOSING = "dosing", _("Dosing")
    INTEGRATE = "integrate", _("Integrate")
    RECONNECT = "reconnect", _("Reconnect")
    DECLINED = "declined", _("Not eligible")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    ON_HOLD = "on_hold", _("On hold")


# The five stages of the journey, in order; the progress bar shows these.
JOURNEY_STAGES = (Stage.CONNECT, Stage.PREPARE, Stage.DOSING, Stage.INTEGRATE, Stage.RECONNECT)
# Stages in which a course still needs the clinic's attention: one per client at a time.
ACTIVE_STAGES = (Stage.CONNECT, Stage.PREPARE, Stage.DOSING, Stage.INTEGRATE, Stage.ON_HOLD)


class Course(models.Model):
    """One client's pass through the journey. Its stage changes only through
    `clinic.journey.course_transition`."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(
        ClientProfile, on_delete=models.PROTECT, related_name="courses", verbose_name=_("client")
    )
    clinic = models.ForeignKey(
        Clinic, on_delete=models.PROTECT, related_name="courses", verbose_name=_("clinic")
    )
    stage = models.CharField(
        _("stage"), max_length=20, choices=Stage.choices, default=Stage.CONNECT
    )
    stage_before_hold = models.CharField(
        _("stage before hold"), max_length=20, choices=Stage.choices, blank=True, editable=False
    )
    stage_changed_at = models.DateTimeField(
        _("stage changed at"), default=timezone.now, editable=False
    )
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now, editable=False)

    # The stage as read from the database (from_db): save() refuses to move it.
    _loaded_stage: str | None

    class Meta:
        verbose_name = _("course")
        verbose_name_plural = _("courses")
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["client"],
                condition=Q(stage__in=[s.value for s in ACTIVE_STAGES]),
                name="course_one_active_per_client",
            ),
            models.CheckConstraint(
                condition=~Q(stage="on_hold") | ~Q(stage_before_hold=""),
                name="course_hold_remembers_stage",
            ),
        ]
        indexes = [
            models.Index(fields=["clinic", "stage"], name="course_clinic_stage_idx"),
            # The staff course list: a clinic's courses, latest change first.
            models.Index(fields=["clinic", "-stage_changed_at"], name="course_clinic_changed_idx"),
            # The clinical day's courses in prepare and dosing, in the page's
            # order: the first 25 read from the index, not 7,000 sorted
            # (177 ms to 0.15 ms at 100,000 clients, issue 15).
            models.Index(
                fields=["clinic", "stage", "-stage_changed_at", "-id"],
                name="course_prepare_dosing_idx",
                condition=Q(stage__in=[Stage.PREPARE, Stage.DOSING]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client} · {self.get_stage_display()}"

    def save(self, *args, **kwargs):
        # The stage is a state machine: a plain save() must never move it.
        loaded = getattr(self, "_loaded_stage", None)
        if self.pk and loaded is not None and self.stage != loaded:
            raise ValidationError(_("A course's stage changes only through a journey transition."))
        super().save(*args, **kwargs)

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._loaded_stage = instance.__dict__.get("stage")
        return instance


class JourneyEvent(models.Model):
    """Each stage change: who, when, from, to, why. Append-only."""

    course = models.ForeignKey(
        Course, on_delete=models.PROTECT, related_name="events", verbose_name=_("course")
    )
    from_stage = models.CharField(_("from stage"), max_length=20, choices=Stage.choices, blank=True)
    to_stage = models.CharField(_("to stage"), max_length=20, choices=Stage.choices)
    actor = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    reason = models.TextField(_("reason"), blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("journey event")
        verbose_name_plural = _("journey events")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        from_stage = Stage(self.from_stage).label if self.from_stage else "-"
        return f"{from_stage} → {Stage(self.to_stage).label}"


def object_type_label(label: str) -> str:
    """An access-log entry's "eligibility.screening" as a person says it: "Screening"."""
    from django.apps import apps

    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        return label
    return capfirst(model._meta.verbose_name)


class AccessLogQuerySet(models.QuerySet):
    """The admin's date drill-down (date_hierarchy) asks for the first and last
    `at` (Min/Max) and for the distinct years, months or days (`datetimes`) of the filtered
    entries. On a log of hundreds of millions of rows both read every row
    (the clinic filter's join hides the index from Min/Max). Here each is
    answered by walking the `at` index: the first entry, then the first entry
    after its year (month, day), and so on: one short indexed query per value
    shown, whatever the size of the log."""

    def _first_at(self, *, after=None, descending=False):
        queryset = self if after is None else self.filter(at__gte=after)
        return queryset.order_by("-at" if descending else "at").values_list("at", flat=True).first()

    def aggregate(self, *args, **kwargs):
        bounds = {
            name: aggregate
            for name, aggregate in kwargs.items()
            if isinstance(aggregate, models.Min | models.Max)
            and aggregate.filter is None
            and [
                getattr(e, "name", None)
                for e in aggregate.get_source_expressions()
                if e is not None
            ]
            == ["at"]
        }
        if args or not kwargs or len(bounds) != len(kwargs) or self.query.distinct:
            return super().aggregate(*args, **kwargs)
        return {
            name: self._first_at(descending=isinstance(aggregate, models.Max))
            for name, aggregate in bounds.items()
        }

    def datetimes(self, field_name, kind, order="ASC", tzinfo=None):
        if field_name != "at" or kind not in ("year", "month", "day"):
            return super().datetimes(field_name, kind, order, tzinfo)
        zone = tzinfo or timezone.get_current_timezone()
        found = []
        after = None
        while (first := self._first_at(after=after)) is not None:
            local = timezone.localtime(first, zone).date()
            if kind == "year":
                value, following = date(local.year, 1, 1), date(local.year + 1, 1, 1)
            elif kind == "month":
                value = local.replace(day=1)
                following = date(local.year + local.month // 12, local.month % 12 + 1, 1)
            else:
                value, following = local, local + timedelta(days=1)
            found.append(datetime.combine(value, datetime.min.time(), tzinfo=zone))
            after = datetime.combine(following, datetime.min.time(), tzinfo=zone)
        return found if order == "ASC" else found[::-1]


class _AccessLogAppendOnly:
    """Rows of the access log and its archive are written once, never changed
    or deleted through the ORM (the log's table also refuses it by trigger)."""

    pk: object

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError(_("The access log cannot be changed."))
        super().save(*args, **kwargs)  # type: ignore[misc]

    def delete(self, *args, **kwargs):
        raise ValidationError(_("The access log cannot be changed."))


class AccessLogEntry(_AccessLogAppendOnly, models.Model):
    """Who read which client's health data, when and from where.

    Append-only, and it never holds health data itself: only the kind and id
    of the object read.
    """

    class Action(models.TextChoices):
        VIEW = "view", _("viewed")
        EXPORT = "export", _("exported")
        DOWNLOAD = "download", _("downloaded")
        CHANGE = "change", _("changed")

    actor = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name=_("staff member")
    )
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    object_type = models.CharField(_("object type"), max_length=80)
    object_id = models.CharField(_("object id"), max_length=64)
    client = models.ForeignKey(
        ClientProfile, on_delete=models.PROTECT, related_name="+", verbose_name=_("client")
    )
    path = models.CharField(_("page"), max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    previous_hash = models.CharField(
        _("previous entry's hash"), max_length=64, blank=True, editable=False
    )
    entry_hash = models.CharField(_("hash"), max_length=64, blank=True, editable=False)
    # The entry's place in the hash chain, given by the one sealer
    # (clinic.access_log.access_log_seal); empty until then. Not unique in the
    # database (a unique index on a table partitioned by month would have to
    # include `at`): the single sealer gives each number once, and
    # verify_access_log checks that they run 1..N without a gap or a repeat.
    seq = models.BigIntegerField(_("position in the chain"), null=True, editable=False)

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["client", "-at"], name="accesslog_client_at_idx"),
            # The chain's head (highest seq) and the walk in order.
            models.Index(fields=["seq"], name="accesslog_seq_idx"),
            # What the sealer has still to seal, oldest first: small, as it
            # holds only the last few seconds' entries.
            models.Index(
                fields=["id"], condition=Q(seq__isnull=True), name="accesslog_unsealed_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.actor} {self.get_action_display()} {self.object_label} {self.object_id}"

    @property
    def object_label(self) -> str:
        return object_type_label(self.object_type)

    @property
    def is_sealed(self) -> bool:
        return self.seq is not None


class AccessLogArchive(_AccessLogAppendOnly, models.Model):
    """A month of the access log exported to a file and detached from the
    database (`manage.py archive_access_log`), for the privacy officer's
    archive. Append-only like the log: the hashes let `verify_access_log`
    prove the entries still in the database from where the archive ends."""

    month = models.DateField(_("month"), unique=True, help_text=_("First day of the month (UTC)."))
    file_name = models.CharField(_("file"), max_length=255)
    sha256 = models.CharField(_("SHA-256 of the file"), max_length=64)
    rows = models.BigIntegerField(_("entries"))
    first_position = models.BigIntegerField(_("first position in the chain"), null=True)
    last_position = models.BigIntegerField(_("last position in the chain"), null=True)
    previous_hash = models.CharField(
        _("hash before the month's first entry"), max_length=64, blank=True
    )
    last_hash = models.CharField(_("hash of the month's last entry"), max_length=64, blank=True)
    archived_at = models.DateTimeField(_("archived at"), default=timezone.now)

    class Meta:
        verbose_name = _("access log archive")
        verbose_name_plural = _("access log archives")
        ordering = ["month"]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}"


class OutboxMessage(models.Model):
    """Work that happens later: a row written in the same transaction as the
    action that causes it, claimed and done by the beat-driven sweep.

    `kind` names a handler registered with `clinic.outbox.handler`; `key`
    makes the row unique per cause (e.g. one 24-hour reminder per appointment).
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SENT = "sent", _("done")
        SKIPPED = "skipped", _("no longer needed")
        FAILED = "failed", _("failed")

    kind = models.CharField(_("kind"), max_length=60)
    key = models.CharField(_("key"), max_length=120)
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    due_at = models.DateTimeField(_("due at"), default=timezone.now)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox")
        constraints = [
            models.UniqueConstraint(fields=["kind", "key"], name="outbox_unique_kind_key"),
        ]
        indexes = [
            models.Index(
                fields=["due_at"], condition=Q(status="pending"), name="outbox_pending_due_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key} ({self.status})"


class AppointmentKind(models.TextChoices):
    INTAKE_CALL = "intake_call", _("Intake call")
    MEDICAL_ASSESSMENT = "medical_assessment", _("Medical assessment")
    PREPARATORY_SESSION = "preparatory_session", _("Preparatory session")
    DOSING_SESSION = "dosing_session", _("Dosing session")
    INTEGRATION_SESSION = "integration_session", _("Integration session")
    GROUP_MEETING = "group_meeting", _("Group meeting")


class Appointment(models.Model):
    """Anything on the clinic's one calendar. Each stage app keeps its own
    details in a model that points here (an intake call's notes, a dosing
    session's dose); the people and the room it holds are Reservations, which
    is what makes "nobody is in two places at once" checkable across kinds."""

    class Status(models.TextChoices):
        BOOKED = "booked", _("booked")
        HELD = "held", _("held")
        NO_SHOW = "no_show", _("no-show")
        CANCELLED = "cancelled", _("cancelled")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    clinic = models.ForeignKey(
        Clinic, on_delete=models.PROTECT, related_name="appointments", verbose_name=_("clinic")
    )
    kind = models.CharField(_("kind"), max_length=30, choices=AppointmentKind.choices)
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.BOOKED
    )
    client = models.ForeignKey(
        ClientProfile,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appointments",
        verbose_name=_("client"),
    )
    room = models.ForeignKey(
        Room,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appointments",
        verbose_name=_("room"),
    )
    staff = models.ManyToManyField(
        User, through="Reservation", through_fields=("appointment", "staff"), related_name="+"
    )
    # Goes up by one at each reschedule: reminders and manage links carry it,
    # so a stale one is recognised.
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")), name="appointment_ends_after_start"
            ),
        ]
        indexes = [
            models.Index(fields=["clinic", "start"], name="appointment_clinic_start_idx"),
            # A client's upcoming appointments (the portal's next step).
            models.Index(
                fields=["client", "status", "start"], name="appointment_client_status_idx"
            ),
        ]

    def __str__(self) -> str:
        local = timezone.localtime(self.start, self.clinic.zone)
        return f"{self.get_kind_display()} {local:%Y-%m-%d %H:%M}"

    @property
    def is_live(self) -> bool:
        return self.status == self.Status.BOOKED


class Reservation(models.Model):
    """One resource (a staff member, a room or a client) an appointment holds
    from `start` to `end`, buffers included. On PostgreSQL, exclusion
    constraints (migration 0004) refuse two live reservations of the same
    resource whose times overlap: the last line behind the calendar service."""

    appointment = models.ForeignKey(
        Appointment,
        on_delete=models.CASCADE,
        related_name="reservations",
        verbose_name=_("appointment"),
    )
    staff = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reservations",
        verbose_name=_("staff member"),
    )
    room = models.ForeignKey(
        Room,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reservations",
        verbose_name=_("room"),
    )
    client = models.ForeignKey(
        ClientProfile,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reservations",
        verbose_name=_("client"),
    )
    start = models.DateTimeField(_("starts"))
    end = models.DateTimeField(_("ends, buffer included"))
    is_live = models.BooleanField(_("holds the time"), default=True)

    class Meta:
        verbose_name = _("reservation")
        verbose_name_plural = _("reservations")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(staff__isnull=False, room__isnull=True, client__isnull=True)
                    | Q(staff__isnull=True, room__isnull=False, client__isnull=True)
                    | Q(staff__isnull=True, room__isnull=True, client__isnull=False)
                ),
                name="reservation_one_resource",
            ),
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")), name="reservation_ends_after_start"
            ),
        ]
        indexes = [
            models.Index(
                fields=["staff", "start"],
                condition=Q(is_live=True),
                name="reservation_staff_live_idx",
            ),
            models.Index(
                fields=["room", "start"],
                condition=Q(is_live=True),
                name="reservation_room_live_idx",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.staff or self.room or self.client} {self.start:%Y-%m-%d %H:%M}–{self.end:%H:%M}"
        )


class ConfidentialityIncident(models.Model):
    """Quebec's Law 25 register of confidentiality incidents: every incident is
    recorded, whatever its risk, and kept (entries are never deleted)."""

    class Risk(models.TextChoices):
        LOW = "low", _("low")
        SERIOUS = "serious", _("risk of serious injury")

    # Null only on entries recorded before the register was kept per clinic
    # (migration 0017): those show to the person who recorded them, who names
    # the clinic when completing the entry. Every new entry names one.
    clinic = models.ForeignKey(
        Clinic,
        on_delete=models.PROTECT,
        null=True,
        blank=False,
        related_name="+",
        verbose_name=_("clinic"),
    )
    occurred_on = models.DateField(_("occurred on"), null=True, blank=True)
    discovered_on = models.DateField(_("discovered on"))
    nature = models.TextField(_("what happened"))
    data_affected = models.TextField(_("personal information concerned"))
    people_affected = models.PositiveIntegerField(
        _("number of people concerned"), null=True, blank=True
    )
    risk = models.CharField(_("risk assessment"), max_length=10, choices=Risk.choices)
    risk_reasons = models.TextField(_("why this risk"), blank=True)
    measures = models.TextField(_("measures taken to reduce the risk"), blank=True)
    commission_notified_on = models.DateField(
        _("Commission d'accès à l'information notified on"), null=True, blank=True
    )
    people_notified_on = models.DateField(_("people concerned notified on"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("confidentiality incident")
        verbose_name_plural = _("confidentiality incidents")
        ordering = ["-discovered_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(occurred_on__isnull=True)
                | Q(occurred_on__lte=models.F("discovered_on")),
                name="incident_occurs_before_discovery",
            ),
        ]
        indexes = [models.Index(fields=["clinic", "-discovered_on"], name="incident_clinic_idx")]

    def __str__(self) -> str:
        return f"{self.discovered_on} · {self.get_risk_display()}"

    def delete(self, *args, **kwargs):
        raise ValidationError(_("The incident register keeps every entry."))


class AccountClosureRequest(models.Model):
    """A client asks to close their account. The privacy officer handles it
    under the retention rules: clinical records are kept for the period the
    law requires, then anonymised; nothing is silently deleted. Each request
    is its own row, so asking again never loses what was written before."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        HANDLED = "handled", _("handled")

    client = models.ForeignKey(
        ClientProfile,
        on_delete=models.PROTECT,
        related_name="closure_requests",
        verbose_name=_("client"),
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    reason = models.TextField(_("reason given"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    outcome = models.TextField(_("what was done"), blank=True)

    class Meta:
        verbose_name = _("account closure request")
        verbose_name_plural = _("account closure requests")
        ordering = ["status", "requested_at"]
        indexes = [models.Index(fields=["client", "status"], name="closure_client_status_idx")]

    def __str__(self) -> str:
        return f"{self.client} · {self.get_status_display()}"


class StaffInvitation(models.Model):
    """The only way a staff member's authenticator is set up or replaced: a
    single-use link e-mailed to them, sent by an administrator (a superuser,
    or a privacy officer of one of their clinics) or from the server's
    command line. Without it, a staff password alone opens nothing.

    Each row is also the audit record: who invited whom, when, for what, and
    when it was used or replaced. Rows are never deleted. Only a hash of the
    link's token is kept."""

    class Purpose(models.TextChoices):
        ENROL = "enrol", _("first authenticator")
        RESET = "reset", _("authenticator reset")

    user = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        related_name="staff_invitations",
        verbose_name=_("staff member"),
    )
    purpose = models.CharField(_("purpose"), max_length=10, choices=Purpose.choices)
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sent by"),
        help_text=_("Empty: sent from the server's command line."),
    )
    created_at = models.DateTimeField(_("sent at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    replaced_at = models.DateTimeField(
        _("replaced by a newer invitation at"), null=True, blank=True
    )
    authenticators_removed = models.PositiveSmallIntegerField(
        _("authenticators removed when used"), default=0
    )

    class Meta:
        verbose_name = _("two-factor invitation")
        verbose_name_plural = _("two-factor invitations")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # Sending a new invitation replaces the open one: at most one link works.
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(used_at__isnull=True, replaced_at__isnull=True),
                name="staffinvitation_one_open_per_user",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")),
                name="staffinvitation_expires_after_sent",
            ),
            models.CheckConstraint(
                condition=Q(used_at__isnull=True) | Q(replaced_at__isnull=True),
                name="staffinvitation_used_or_replaced",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_purpose_display()} · {self.created_at:%Y-%m-%d}"

    def delete(self, *args, **kwargs):
        raise ValidationError(_("Two-factor invitations are kept as a record."))
