"""Integration groups: a group of clients who meet on a schedule (each
meeting an Appointment on the clinic's one calendar), the clients enrolled
or waiting for a place, and who came to each meeting."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from clinic.models import Appointment, ClientProfile, Clinic, Language, Room, Stage

# The stages whose clients a new group takes unless the coordinator says otherwise.
DEFAULT_GROUP_STAGES = [Stage.INTEGRATE.value, Stage.RECONNECT.value]
# Stages a group may be opened to: a client still in connect has no care team yet.
JOINABLE_STAGES = (Stage.PREPARE, Stage.DOSING, Stage.INTEGRATE, Stage.RECONNECT)


def default_group_stages() -> list[str]:
    return list(DEFAULT_GROUP_STAGES)


class IntegrationGroup(models.Model):
    """A group: who runs it, where, for how many, who may join, and the
    recurrence its meetings were made from (kept as the RFC 5545 rule)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    clinic = models.ForeignKey(
        Clinic,
        on_delete=models.PROTECT,
        related_name="integration_groups",
        verbose_name=_("clinic"),
    )
    name_en = models.CharField(_("name in English"), max_length=120)
    name_fr = models.CharField(_("name in French"), max_length=120)
    theme_en = models.TextField(_("theme in English"), blank=True)
    theme_fr = models.TextField(_("theme in French"), blank=True)
    language = models.CharField(_("language spoken"), max_length=2, choices=Language.choices)
    facilitators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="facilitated_groups", verbose_name=_("facilitators")
    )
    room = models.ForeignKey(
        Room,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="integration_groups",
        verbose_name=_("room"),
    )
    video_link = models.URLField(_("video link"), blank=True)
    capacity = models.PositiveSmallIntegerField(_("places"))
    allowed_stages = models.JSONField(_("stages that may join"), default=default_group_stages)
    other_clinics_may_join = models.BooleanField(
        _("clients of the other clinics may join"), default=False
    )
    is_open = models.BooleanField(_("open for enrolment"), default=True)
    recurrence = models.CharField(_("recurrence (RFC 5545)"), max_length=300)
    # Hands out enrolment and waitlist positions, under the group's row lock.
    next_ticket = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("integration group")
        verbose_name_plural = _("integration groups")
        ordering = ["clinic", "name_en"]
        constraints = [
            models.CheckConstraint(condition=Q(capacity__gte=1), name="group_capacity_positive"),
            models.CheckConstraint(
                condition=Q(room__isnull=False) | ~Q(video_link=""), name="group_room_or_video"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_fr if translation.get_language() == "fr" else self.name_en

    @property
    def theme(self) -> str:
        return self.theme_fr if translation.get_language() == "fr" else self.theme_en


class GroupMeeting(models.Model):
    """One meeting of a group: its appointment holds the room, the
    facilitators and every enrolled client; moved or cancelled alone."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    group = models.ForeignKey(
        IntegrationGroup, on_delete=models.PROTECT, related_name="meetings", verbose_name=_("group")
    )
    appointment = models.OneToOneField(
        Appointment,
        on_delete=models.PROTECT,
        related_name="group_meeting",
        verbose_name=_("appointment"),
    )
    number = models.PositiveSmallIntegerField(_("meeting number"))

    class Meta:
        verbose_name = _("group meeting")
        verbose_name_plural = _("group meetings")
        ordering = ["group", "number"]
        constraints = [
            models.UniqueConstraint(fields=["group", "number"], name="group_meeting_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.group} #{self.number}"


class Enrolment(models.Model):
    """A client's place in a group, or their place in its waitlist.

    `position` orders the waitlist (and, among the enrolled, who came last):
    given out from the group's counter under its lock, so it is never shared."""

    class Status(models.TextChoices):
        ENROLLED = "enrolled", _("enrolled")
        WAITLISTED = "waitlisted", _("on the waitlist")
        LEFT = "left", _("left")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    group = models.ForeignKey(
        IntegrationGroup,
        on_delete=models.PROTECT,
        related_name="enrolments",
        verbose_name=_("group"),
    )
    client = models.ForeignKey(
        ClientProfile,
        on_delete=models.PROTECT,
        related_name="group_enrolments",
        verbose_name=_("client"),
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    position = models.IntegerField(_("position"))
    created_at = models.DateTimeField(_("asked on"), default=timezone.now, editable=False)
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)

    class Meta:
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        ordering = ["group", "status", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "client"],
                condition=~Q(status="left"),
                name="enrolment_one_live_per_client",
            ),
            models.UniqueConstraint(
                fields=["group", "position"],
                condition=~Q(status="left"),
                name="enrolment_unique_position",
            ),
        ]
        indexes = [
            models.Index(fields=["group", "status", "position"], name="enrolment_group_status_idx")
        ]

    def __str__(self) -> str:
        return f"{self.client} · {self.group} ({self.get_status_display()})"


class Attendance(models.Model):
    """Whether an enrolled client came to a meeting, as a facilitator recorded it."""

    class Mark(models.TextChoices):
        PRESENT = "present", _("present")
        ABSENT = "absent", _("absent")
        EXCUSED = "excused", _("excused")

    meeting = models.ForeignKey(
        GroupMeeting, on_delete=models.PROTECT, related_name="attendance", verbose_name=_("meeting")
    )
    enrolment = models.ForeignKey(
        Enrolment, on_delete=models.PROTECT, related_name="attendance", verbose_name=_("enrolment")
    )
    mark = models.CharField(_("attendance"), max_length=10, choices=Mark.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "enrolment"], name="attendance_one_per_meeting"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enrolment.client} · {self.meeting}: {self.get_mark_display()}"
