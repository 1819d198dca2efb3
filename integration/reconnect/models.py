import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinic.models import ClientProfile, Course
from clinic.records import AppendOnlyRecord

SUMMARY_MAX = 2000


class IntegrationPlan(AppendOnlyRecord):
    """The integration plan closed by a clinician, with its short summary:
    what ends the integrate stage (journey guard). One per course, never
    changed."""

    course = models.OneToOneField(
        Course, on_delete=models.PROTECT, related_name="integration_plan", verbose_name=_("course")
    )
    summary = models.TextField(_("summary"), max_length=SUMMARY_MAX)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("closed by"),
    )
    closed_at = models.DateTimeField(_("closed at"), default=timezone.now)

    class Meta:
        verbose_name = _("integration plan")
        verbose_name_plural = _("integration plans")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(summary=""), name="integration_plan_has_summary"
            )
        ]

    def __str__(self) -> str:
        return str(self.course)


class FurtherTreatmentRequest(AppendOnlyRecord):
    """A client in reconnect asks for further treatment (a booster series):
    a new course opens. One per reconnect course (a double submit finds it)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(
        ClientProfile, on_delete=models.PROTECT, related_name="+", verbose_name=_("client")
    )
    from_course = models.OneToOneField(
        Course,
        on_delete=models.PROTECT,
        related_name="further_treatment_request",
        verbose_name=_("course in reconnect"),
    )
    new_course = models.OneToOneField(
        Course, on_delete=models.PROTECT, related_name="+", verbose_name=_("new course")
    )
    screening_current = models.BooleanField(_("last screening still current"))
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)

    class Meta:
        verbose_name = _("further treatment request")
        verbose_name_plural = _("further treatment requests")

    def __str__(self) -> str:
        return f"{self.client} · {self.requested_at:%Y-%m-%d}"


class ContactPreferences(models.Model):
    """Whether the client may be contacted about peer support (off until
    they say yes). Research contact is the core's own flag on the profile."""

    client = models.OneToOneField(
        ClientProfile,
        on_delete=models.CASCADE,
        related_name="contact_preferences",
        verbose_name=_("client"),
    )
    peer_support = models.BooleanField(_("may be contacted about peer support"), default=False)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("contact preferences")
        verbose_name_plural = _("contact preferences")

    def __str__(self) -> str:
        return str(self.client)
