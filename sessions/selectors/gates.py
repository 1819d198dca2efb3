"""What the journey's gates out of prepare and dosing ask, and what the
portal and the staff pages show about them: one place for each rule."""

from django.db.models import Exists, OuterRef
from django.utils import timezone

from clinic.models import Appointment, AppointmentKind, Course

from ..models import (
    AssessmentSignOff,
    Consent,
    ConsentDocument,
    DosingSeries,
    ModuleCompletion,
    PreparationModuleVersion,
)


def current_module_versions() -> list[PreparationModuleVersion]:
    """The latest version of every active module, in order."""
    latest = PreparationModuleVersion.objects.filter(module=OuterRef("module")).order_by("-number")
    return list(
        PreparationModuleVersion.objects.filter(module__is_active=True, pk=latest.values("pk")[:1])
        .select_related("module")
        .order_by("module__order", "module__slug")
    )


def modules_outstanding(course: Course) -> list[PreparationModuleVersion]:
    """The required modules whose current version the client has not marked
    read (a module changed since they read it counts as not read)."""
    versions = [v for v in current_module_versions() if v.module.required]
    done = set(
        ModuleCompletion.objects.filter(course=course, version__in=versions).values_list(
            "version_id", flat=True
        )
    )
    return [v for v in versions if v.pk not in done]


def documents_in_force(kind: str, now=None) -> list[ConsentDocument]:
    """Every language of the newest version of `kind` in force now."""
    now = now or timezone.now()
    newest = (
        ConsentDocument.objects.filter(kind=kind, in_force_from__lte=now)
        .order_by("-version")
        .values_list("version", flat=True)
        .first()
    )
    if newest is None:
        return []
    return list(ConsentDocument.objects.filter(kind=kind, version=newest))


def treatment_consent_current(course: Course, now=None) -> Consent | None:
    """The client's signature of the treatment consent in force now, if any:
    a newer version in force asks for a new signature."""
    documents = documents_in_force(ConsentDocument.Kind.TREATMENT, now)
    if not documents:
        return None
    return (
        Consent.objects.filter(
            course=course, document__in=documents, decision=Consent.Decision.SIGNED
        )
        .order_by("-at", "-pk")
        .first()
    )


def filming_consent_active(course: Course) -> Consent | None:
    """The signed filming consent in effect, if any: the client's latest
    answer to a filming document is a signature that has not been withdrawn."""
    latest = (
        Consent.objects.filter(course=course, document__kind=ConsentDocument.Kind.FILMING)
        .exclude(decision=Consent.Decision.WITHDRAWN)
        .annotate(withdrawn=Exists(Consent.objects.filter(withdraws=OuterRef("pk"))))
        .order_by("-at", "-pk")
        .first()
    )
    if latest is None or latest.decision != Consent.Decision.SIGNED or latest.withdrawn:
        return None
    return latest


def assessment_cleared(course: Course) -> AssessmentSignOff | None:
    """The current conclusion of the course's held medical assessment when it
    clears the client for dosing: the latest sign-off that no later one
    corrects."""
    latest = (
        AssessmentSignOff.objects.filter(
            assessment__course=course,
            assessment__appointment__kind=AppointmentKind.MEDICAL_ASSESSMENT,
            assessment__appointment__status=Appointment.Status.HELD,
            correction__isnull=True,
        )
        .order_by("-at", "-pk")
        .first()
    )
    return latest if latest is not None and latest.cleared else None


def series_complete(course: Course) -> bool:
    """Every planned session of the series discharged, or the series ended
    early by a clinician (with a reason)."""
    series = DosingSeries.objects.filter(course=course).first()
    if series is None:
        return False
    if series.ended_at is not None:
        return True
    discharged = series.sessions.filter(outcome="discharged").count()
    return discharged >= series.planned_sessions
