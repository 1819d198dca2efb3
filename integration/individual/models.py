"""Individual integration sessions: after a held dosing session, the client
meets their therapist (the one who was in the dosing room) within a window
of days the clinic sets. The time is an Appointment on the one calendar,
holding the therapist and the client (and a room when one is chosen)."""

import uuid
from datetime import time

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from clinic.models import Appointment, Clinic, Course


class IntegrationSessionSettings(models.Model):
    """A clinic's window for integration sessions; a clinic without a row
    uses the defaults (`session_settings` in selectors): 1 to 3 days after
    the dosing session, an hour, offered between 9:00 and 17:00 local time."""

    clinic = models.OneToOneField(
        Clinic,
        on_delete=models.CASCADE,
        related_name="integration_session_settings",
        verbose_name=_("clinic"),
    )
    window_from_days = models.PositiveSmallIntegerField(
        _("first day offered, in days after the dosing session"), default=1
    )
    window_to_days = models.PositiveSmallIntegerField(
        _("last day offered, in days after the dosing session"), default=3
    )
    session_minutes = models.PositiveSmallIntegerField(_("length in minutes"), default=60)
    day_start = models.TimeField(_("first time offered (local)"), default=time(9))
    day_end = models.TimeField(_("offered until (local)"), default=time(17))

    class Meta:
        verbose_name = _("integration session settings")
        verbose_name_plural = _("integration session settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(window_from_days__lte=F("window_to_days"), window_to_days__lte=60),
                name="integration_window_in_order",
            ),
            models.CheckConstraint(
                condition=Q(session_minutes__gte=15, session_minutes__lte=240),
                name="integration_session_length",
            ),
            models.CheckConstraint(
                condition=Q(day_start__lt=F("day_end")), name="integration_day_in_order"
            ),
        ]

    def __str__(self) -> str:
        return str(self.clinic)


class IndividualSession(models.Model):
    """An integration session booked after a dosing session. The
    appointment holds its time, status and version; this row says which
    dosing session it follows and who booked it (the client or a staff
    member). A cancelled one stays, so a new one can be booked after."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    appointment = models.OneToOneField(
        Appointment,
        on_delete=models.PROTECT,
        related_name="integration_session",
        verbose_name=_("appointment"),
    )
    dosing_session = models.ForeignKey(
        "dosing.DosingSession",
        on_delete=models.PROTECT,
        related_name="integration_sessions",
        verbose_name=_("after the dosing session"),
    )
    course = models.ForeignKey(
        Course,
        on_delete=models.PROTECT,
        related_name="integration_sessions",
        verbose_name=_("course"),
    )
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("therapist"),
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("booked by"),
    )

    class Meta:
        verbose_name = _("integration session")
        verbose_name_plural = _("integration sessions")

    def __str__(self) -> str:
        return str(self.appointment)
