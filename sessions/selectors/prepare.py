"""Reads of the prepare side: the client's portal in prepare and dosing
(modules and progress, consents, preferences, upcoming appointments), the
prepare -> dosing gate and the portal's next step, the staff page of a
course's preparation, and `preferences_for` for the session's staff pages.

The rules themselves (what counts as read, signed, cleared) are the gate
reads in `gates.py`; this module only arranges them for pages, each read a
fixed number of queries whatever the data size."""

from dataclasses import dataclass, field
from datetime import datetime

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from clinic.journey import NextStep
from clinic.models import Appointment, AppointmentKind, Course, Language, Stage, User
from clinic.selectors import client_profile, staff_clinic_ids

from ..models import (
    AssessmentSignOff,
    Consent,
    ConsentDocument,
    DosePlan,
    ModuleCompletion,
    PreparationAppointment,
    PreparationModuleVersion,
    SessionPreferences,
)
from ..text import Block, blocks
from .clinic_settings import dosing_settings  # noqa: F401  (read here by the stage's services)
from .gates import (
    assessment_cleared,
    current_module_versions,
    documents_in_force,
    filming_consent_active,
    modules_outstanding,
    treatment_consent_current,
)

# The stages in which the client prepares: a consent in force changed during
# the dosing series asks for a new signature there too.
OPEN_STAGES = (Stage.PREPARE, Stage.DOSING)

# What the client's portal lists as their appointments of these stages.
PORTAL_KINDS = (
    AppointmentKind.MEDICAL_ASSESSMENT,
    AppointmentKind.PREPARATORY_SESSION,
    AppointmentKind.DOSING_SESSION,
)


def language_of(code: str | None) -> str:
    """The content language for an active language code ("fr-ca" -> "fr")."""
    short = (code or "")[:2].lower()
    return short if short in Language.values else Language.FR


def client_course(*, user: User) -> Course | None:
    """The signed-in client's latest course (their portal shows it), with
    the client and clinic: the prepare pages act on this one only, so
    another client's course is never reachable from them."""
    client = client_profile(user=user)
    if client is None:
        return None
    return (
        Course.objects.filter(client=client)
        .select_related("clinic", "client__user")
        .order_by("-opened_at", "-pk")
        .first()
    )


# --- Modules -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModuleState:
    version: PreparationModuleVersion
    state: str  # "done", "updated" (an earlier version read) or "todo"
    title: str  # in the person's language

    @property
    def slug(self) -> str:
        return self.version.module.slug


@dataclass(frozen=True)
class ModuleProgress:
    modules: list[ModuleState]
    done: int  # required modules whose current version is read
    total: int  # required modules
    next: ModuleState | None

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 100

    @property
    def bar(self) -> int:
        """The width class of the progress bar (tenths: the CSP allows no inline style)."""
        return round(self.percent / 10) * 10

    @property
    def complete(self) -> bool:
        return self.done >= self.total


def module_progress(course: Course, language: str = Language.EN) -> ModuleProgress:
    """Every active module in order with the client's state for it (two
    queries). A module changed since the client read it is "updated": it
    no longer counts until they read the new version."""
    versions = current_module_versions()
    read = list(
        ModuleCompletion.objects.filter(
            course=course, version__module__in=[v.module_id for v in versions]
        ).values_list("version_id", "version__module_id")
    )
    read_versions = {version_id for version_id, _module in read}
    read_modules = {module_id for _version, module_id in read}
    states = []
    for version in versions:
        if version.pk in read_versions:
            state = "done"
        elif version.module_id in read_modules:
            state = "updated"
        else:
            state = "todo"
        states.append(ModuleState(version, state, version.title(language)))
    required = [s for s in states if s.version.module.required]
    following = next((s for s in required if s.state != "done"), None) or next(
        (s for s in states if s.state != "done"), None
    )
    return ModuleProgress(
        modules=states,
        done=sum(1 for s in required if s.state == "done"),
        total=len(required),
        next=following,
    )


@dataclass(frozen=True)
class ModulePage:
    version: PreparationModuleVersion
    state: str
    title: str
    blocks: list[Block]
    progress: ModuleProgress
    following: ModuleState | None  # the next module after this one still to read


def module_page(*, course: Course, slug: str, language: str) -> ModulePage | None:
    progress = module_progress(course, language)
    index = next((i for i, s in enumerate(progress.modules) if s.slug == slug), None)
    if index is None:
        return None
    state = progress.modules[index]
    following = next((s for s in progress.modules[index + 1 :] if s.state != "done"), None)
    return ModulePage(
        version=state.version,
        state=state.state,
        title=state.version.title(language),
        blocks=blocks(state.version.body(language)),
        progress=progress,
        following=following or (progress.next if progress.next is not state else None),
    )


# --- Consents ------------------------------------------------------------------------------


def document_in_force(
    *, kind: str, language: str, now: datetime | None = None
) -> ConsentDocument | None:
    """The document of `kind` in force now in the person's language, or in
    the other language when the newest version has not been translated yet."""
    documents = documents_in_force(kind, now)
    return next((d for d in documents if d.language == language), None) or (
        documents[0] if documents else None
    )


@dataclass(frozen=True)
class ConsentStatus:
    kind: str
    label: str
    document: ConsentDocument | None  # in force, in the person's language
    signature: Consent | None  # the signature in effect
    latest: Consent | None  # the latest answer, whatever it was

    @property
    def state(self) -> str:
        """signed, resign (an older version signed, a new one in force),
        declined, withdrawn or todo."""
        if self.signature is not None:
            return "signed"
        if self.latest is None:
            return "todo"
        if self.latest.decision == Consent.Decision.SIGNED:
            return "resign"
        if self.latest.decision == Consent.Decision.DECLINED:
            same = (
                self.document is not None and self.latest.document.version == self.document.version
            )
            return "declined" if same else "todo"
        return "withdrawn"


def _consent_statuses(
    course: Course, history: list[Consent], language: str, now: datetime
) -> dict[str, ConsentStatus]:
    statuses = {}
    for kind, label in ConsentDocument.Kind.choices:
        if kind == ConsentDocument.Kind.TREATMENT:
            signature = treatment_consent_current(course, now)
        else:
            signature = filming_consent_active(course)
        latest = next((c for c in history if c.document.kind == kind), None)
        statuses[kind] = ConsentStatus(
            kind=kind,
            label=str(label),
            document=document_in_force(kind=kind, language=language, now=now),
            signature=signature,
            latest=latest,
        )
    return statuses


def consent_history(course: Course) -> list[Consent]:
    """Every answer of the course's client to a consent document, newest first."""
    return list(
        Consent.objects.filter(course=course)
        .select_related("document", "withdraws")
        .order_by("-at", "-pk")
    )


@dataclass(frozen=True)
class ConsentPage:
    status: ConsentStatus
    blocks: list[Block]
    history: list[Consent]


def consent_page(*, course: Course, kind: str, language: str) -> ConsentPage | None:
    if kind not in ConsentDocument.Kind.values:
        return None
    now = timezone.now()
    history = consent_history(course)
    status = _consent_statuses(course, history, language, now)[kind]
    document = status.document
    return ConsentPage(
        status=status,
        blocks=blocks(document.body) if document else [],
        history=[c for c in history if c.document.kind == kind],
    )


def consent_of_client(*, course: Course, consent_uuid) -> Consent | None:
    """One of the client's own consent answers, with the document they were
    shown (another client's uuid finds nothing)."""
    return (
        Consent.objects.filter(course__client_id=course.client_id, uuid=consent_uuid)
        .select_related("document", "withdraws__document", "course__clinic")
        .first()
    )


# --- Preferences ---------------------------------------------------------------------------


def preferences_for(course: Course) -> SessionPreferences | None:
    """The client's session preferences (eye shades, music or silence, who
    takes them home, notes), for the staff of their sessions. The caller
    writes the access log for the read, as for any health data it shows."""
    return SessionPreferences.objects.filter(course=course).first()


# --- Assessment -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AssessmentStatus:
    state: str  # none, booked, held, cleared, not_cleared
    appointment: Appointment | None = None


def assessment_status(course: Course, now: datetime | None = None) -> AssessmentStatus:
    """Where the course's medical assessment stands, for the client's next
    step: cleared (the gate's own rule), a conclusion that does not clear,
    held awaiting the practitioner's sign-off, booked, or nothing yet."""
    now = now or timezone.now()
    cleared = assessment_cleared(course)
    if cleared is not None:
        return AssessmentStatus("cleared")
    assessments = list(
        PreparationAppointment.objects.filter(
            course=course, appointment__kind=AppointmentKind.MEDICAL_ASSESSMENT
        )
        .select_related("appointment__clinic")
        .order_by("-appointment__start")[:5]
    )
    held = [a for a in assessments if a.appointment.status == Appointment.Status.HELD]
    if held:
        concluded = AssessmentSignOff.objects.filter(
            assessment__in=held, correction__isnull=True
        ).exists()
        return AssessmentStatus("not_cleared" if concluded else "held", held[0].appointment)
    upcoming = [
        a
        for a in assessments
        if a.appointment.status == Appointment.Status.BOOKED and a.appointment.end >= now
    ]
    if upcoming:
        return AssessmentStatus("booked", upcoming[-1].appointment)
    return AssessmentStatus("none")


# --- The gate and the next step ------------------------------------------------------------


def prepare_gate_unmet(course: Course) -> list[str]:
    """The prepare -> dosing guard: the required modules read in their
    current version, the treatment consent in force signed, and a held
    medical assessment signed off as cleared for dosing. Sentences for the
    clinician who tries to move the course."""
    unmet = []
    outstanding = len(modules_outstanding(course))
    if outstanding:
        unmet.append(
            ngettext(
                "%(count)d required preparation module is not read yet.",
                "%(count)d required preparation modules are not read yet.",
                outstanding,
            )
            % {"count": outstanding}
        )
    if treatment_consent_current(course) is None:
        unmet.append(_("The consent to treatment in force is not signed."))
    if assessment_cleared(course) is None:
        unmet.append(_("No medical assessment has been held and signed off as cleared for dosing."))
    return unmet


def prepare_next_step(course: Course) -> NextStep:
    """What the client still has to do (or wait for) in prepare."""
    progress = module_progress(course)
    remaining = []
    if not progress.complete:
        left = progress.total - progress.done
        remaining.append(
            ngettext(
                "read %(count)d more preparation module",
                "read %(count)d more preparation modules",
                left,
            )
            % {"count": left}
        )
    if treatment_consent_current(course) is None:
        remaining.append(_("sign your consent to treatment"))
    if (
        not filming_consent_active(course)
        and not Consent.objects.filter(
            course=course, document__kind=ConsentDocument.Kind.FILMING
        ).exists()
    ):
        remaining.append(_("answer the consent to filming (yes or no)"))
    if not SessionPreferences.objects.filter(course=course).exists():
        remaining.append(_("tell us your session preferences"))
    assessment = assessment_status(course)
    waiting = {
        "none": _("Your coordinator will contact you to book your medical assessment."),
        "booked": _("Your medical assessment is booked: you will find it below."),
        "held": _("Your medical assessment took place; the medical team will confirm its outcome."),
        "not_cleared": _("Your care team will talk with you about your medical assessment."),
        "cleared": "",
    }[assessment.state]
    if remaining:
        text = _("Still to do: %(things)s.") % {"things": ", ".join(remaining)}
        if waiting:
            text = f"{text} {waiting}"
    else:
        text = waiting or _("Everything is ready. Your coordinator will schedule your sessions.")
    return NextStep(
        _("Prepare for your sessions"),
        text,
        reverse("dosing:portal"),
        _("Continue your preparation") if remaining else _("See your preparation"),
    )


def dosing_next_step(course: Course) -> NextStep | None:
    """In dosing, only when the client must act before the next session: a
    new consent to treatment in force, or a module updated since they read it."""
    if treatment_consent_current(course) is None:
        return NextStep(
            _("Sign the updated consent to treatment"),
            _(
                "The consent to treatment has changed. Please read it and sign it again before your next session."
            ),
            reverse("dosing:consent", args=[ConsentDocument.Kind.TREATMENT]),
            _("Read and sign"),
        )
    if modules_outstanding(course):
        return NextStep(
            _("A preparation module was updated"),
            _("Please read it again before your next session."),
            reverse("dosing:portal"),
            _("See your preparation"),
        )
    return None


# --- The client's portal --------------------------------------------------------------------


@dataclass(frozen=True)
class UpcomingAppointment:
    appointment: Appointment
    instructions: str  # the clinic's day-of instructions, for a dosing session


@dataclass(frozen=True)
class PreparationOverview:
    course: Course
    progress: ModuleProgress
    consents: dict[str, ConsentStatus]
    history: list[Consent]
    preferences: SessionPreferences | None
    upcoming: list[UpcomingAppointment]
    dose_plan: DosePlan | None
    open: bool  # the client may act (prepare or dosing)
    started: bool = field(default=True)  # past connect


def client_preparation(*, course: Course, language: str) -> PreparationOverview:
    """The prepare and dosing portal: nothing of the clinical record except
    the dose plan, and that only when the clinic shows it to clients."""
    now = timezone.now()
    history = consent_history(course)
    settings = dosing_settings(course.clinic)
    upcoming = [
        UpcomingAppointment(
            appointment,
            settings.day_of_instructions(language)
            if appointment.kind == AppointmentKind.DOSING_SESSION
            else "",
        )
        for appointment in Appointment.objects.filter(
            client_id=course.client_id,
            kind__in=PORTAL_KINDS,
            status=Appointment.Status.BOOKED,
            end__gte=now,
        )
        .select_related("clinic", "room")
        .order_by("start")[:20]
    ]
    dose_plan = None
    if settings.portal_shows_dose_plan:
        dose_plan = (
            DosePlan.objects.filter(course=course, replaced_by__isnull=True)
            .order_by("-at", "-pk")
            .first()
        )
    return PreparationOverview(
        course=course,
        progress=module_progress(course, language),
        consents=_consent_statuses(course, history, language, now),
        history=history,
        preferences=preferences_for(course),
        upcoming=upcoming,
        dose_plan=dose_plan,
        open=course.stage in OPEN_STAGES,
        started=course.stage != Stage.CONNECT,
    )


# --- Staff ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffPreparation:
    course: Course
    progress: ModuleProgress
    history: list[Consent]
    preferences: SessionPreferences | None
    unmet: list[str]
    assessment: AssessmentStatus


def staff_preparation(
    *, user: User, course_uuid, language: str = Language.EN
) -> StaffPreparation | None:
    """A course's preparation for its clinic's clinicians: modules, every
    consent answer (who signed what, when, from where), preferences, and
    what the prepare gate still waits for. None for another clinic's course."""
    course = (
        Course.objects.filter(uuid=course_uuid, clinic_id__in=staff_clinic_ids(user=user))
        .select_related("client__user", "clinic")
        .first()
    )
    if course is None:
        return None
    return StaffPreparation(
        course=course,
        progress=module_progress(course, language),
        history=consent_history(course),
        preferences=preferences_for(course),
        unmet=prepare_gate_unmet(course),
        assessment=assessment_status(course),
    )


# --- The client's own data -------------------------------------------------------------------


def client_export(client) -> dict:
    """The client's modules read, consent answers and session preferences,
    for their own data export (right of access)."""
    completions = (
        ModuleCompletion.objects.filter(course__client=client)
        .select_related("version__module")
        .order_by("completed_at", "pk")
    )
    consents = (
        Consent.objects.filter(course__client=client)
        .select_related("document")
        .order_by("at", "pk")
    )
    preferences = SessionPreferences.objects.filter(course__client=client).order_by("pk")
    return {
        "modules_read": [
            {
                "module": c.version.title(client.user.preferred_language),
                "version": c.version.number,
                "at": c.completed_at.isoformat(),
            }
            for c in completions
        ],
        "consents": [
            {
                "document": c.document.title,
                "version": c.document.version,
                "language": c.language,
                "decision": c.decision,
                "typed_name": c.typed_name,
                "at": c.at.isoformat(),
                "ip_address": c.ip_address,
                "text_sha256": c.text_sha256,
            }
            for c in consents
        ],
        "preferences": [
            {
                "eye_shades": p.eye_shades,
                "sound": p.sound,
                "escort_name": p.escort_name,
                "escort_phone": p.escort_phone,
                "notes": p.notes,
                "updated_at": p.updated_at.isoformat(),
            }
            for p in preferences
        ],
    }
