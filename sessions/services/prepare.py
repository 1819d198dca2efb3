"""The client's preparation: reading the modules, the session preferences,
signing the consents (and declining or withdrawing the filming consent), and
staff publishing a new version of a module. One transaction each.

Each client action locks the course row first, so a double click (two
requests at once) finds the first one's row and records nothing twice."""

import re
import unicodedata
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from clinic import journey
from clinic.models import Course, Stage, User
from clinic.outbox import outbox_enqueue

from ..models import (
    Consent,
    ConsentDocument,
    ModuleCompletion,
    PreparationModule,
    PreparationModuleVersion,
    SessionPreferences,
)
from ..selectors.gates import filming_consent_active, treatment_consent_current
from ..selectors.prepare import OPEN_STAGES, document_in_force

# A withdrawal of filming consent is this outbox row, written in the
# withdrawal's transaction; services/recordings.py handles it (the course's
# recordings are queued for deletion).
FILMING_WITHDRAWN = "dosing.filming_withdrawn"

MSG_NOT_OPEN = gettext_noop(
    "This can be done while your course is in the prepare or dosing stage. "
    "Contact the clinic if you think this is a mistake."
)
MSG_MODULE_CHANGED = gettext_noop(
    "This module was updated while you were reading it. Please read the new version below."
)
MSG_NO_DOCUMENT = gettext_noop(
    "This consent document is not available at the moment. Please contact the clinic."
)
MSG_TEXT_CHANGED = gettext_noop(
    "The text of this document changed while you were reading it. "
    "Please read the current version below before you answer."
)
MSG_AGREE_REQUIRED = gettext_noop("Please tick the box to say that you agree.")
MSG_NAME_MISMATCH = gettext_noop(
    "The name you typed does not match the name on your account, %(name)s. "
    "Type your full name as it appears there."
)
MSG_ACCOUNT_HAS_NO_NAME = gettext_noop(
    "Your account has no name yet, so you cannot sign. Please contact the clinic."
)
MSG_WITHDRAW_INSTEAD = gettext_noop(
    "You have consented to the filming of your sessions. To change your mind, withdraw "
    "your consent."
)
MSG_NOTHING_TO_WITHDRAW = gettext_noop("You have no consent to filming to withdraw.")
MSG_VERSION_UNCHANGED = gettext_noop(
    "The title and text are the same as the current version: nothing was published."
)

EVENT_MODULE_READ = gettext_noop("Preparation module read")
EVENT_CONSENT_SIGNED = gettext_noop("Consent to treatment signed")


class PrepareError(Exception):
    """Something the preparation rules refuse; `str()` is a sentence for the person."""


def _lock(course: Course) -> Course:
    return Course.objects.select_for_update().select_related("client__user").get(pk=course.pk)


def _require_open(course: Course) -> None:
    if course.stage not in OPEN_STAGES:
        raise PrepareError(_(MSG_NOT_OPEN))


def _advance(course: Course, cause: str) -> None:
    """Only from prepare: in dosing the next gate is the series' own, and a
    module read again there must not be taken for the end of the series."""
    if course.stage == Stage.PREPARE:
        journey.course_advance(course=course, cause=_(cause), by=course.client.user)


# --- Modules ---------------------------------------------------------------------------


def module_complete(
    *, course: Course, module: PreparationModule, version_number: int, now: datetime | None = None
) -> tuple[ModuleCompletion, bool]:
    """The client marks the version of a module they were shown as read.
    Returns (completion, created). A version that is no longer the module's
    current one (staff published a new one meanwhile) is refused: the client
    reads the new text first."""
    with transaction.atomic():
        current = _lock(course)
        _require_open(current)
        latest = (
            PreparationModuleVersion.objects.filter(module=module, module__is_active=True)
            .order_by("-number")
            .first()
        )
        if latest is None or latest.number != version_number:
            raise PrepareError(_(MSG_MODULE_CHANGED))
        completion = ModuleCompletion.objects.filter(course=current, version=latest).first()
        if completion is not None:
            return completion, False
        completion = ModuleCompletion(
            course=current, version=latest, completed_at=now or timezone.now()
        )
        completion.full_clean(validate_constraints=False)
        completion.save()
        _advance(current, EVENT_MODULE_READ)
    return completion, True


def module_publish(
    *,
    module: PreparationModule,
    title_en: str,
    title_fr: str,
    body_en: str,
    body_fr: str,
    by: User | None,
) -> PreparationModuleVersion:
    """Staff change a module: a new version, never an edit of the one clients
    read (their completion stays tied to the text they read, and the module
    shows as "updated, please read again")."""
    fields = {
        "title_en": title_en.strip(),
        "title_fr": title_fr.strip(),
        "body_en": body_en.strip(),
        "body_fr": body_fr.strip(),
    }
    with transaction.atomic():
        locked = PreparationModule.objects.select_for_update().get(pk=module.pk)
        latest = locked.versions.order_by("-number").first()
        if latest is not None and all(getattr(latest, k) == v for k, v in fields.items()):
            raise PrepareError(_(MSG_VERSION_UNCHANGED))
        version = PreparationModuleVersion(
            module=locked,
            number=(latest.number + 1) if latest else 1,
            published_by=by,
            published_at=timezone.now(),
            **fields,
        )
        version.full_clean(validate_constraints=False)
        version.save()
    return version


# --- Preferences -------------------------------------------------------------------------


def preferences_save(
    *,
    course: Course,
    eye_shades: str,
    sound: str,
    escort_name: str,
    escort_phone: str,
    notes: str,
) -> SessionPreferences:
    """The client's wishes for the room and who takes them home. They change
    them freely; the session's staff read the latest."""
    with transaction.atomic():
        current = _lock(course)
        _require_open(current)
        preferences = SessionPreferences.objects.filter(course=current).first() or (
            SessionPreferences(course=current)
        )
        preferences.eye_shades = eye_shades
        preferences.sound = sound
        preferences.escort_name = escort_name.strip()
        preferences.escort_phone = escort_phone.strip()
        preferences.notes = notes.strip()
        preferences.updated_at = timezone.now()
        preferences.full_clean()
        preferences.save()
    return preferences


# --- Consents ----------------------------------------------------------------------------


def name_key(name: str) -> str:
    """A name as compared for a typed signature: case, accents, hyphens,
    apostrophes and extra spaces do not matter ("Helene Cote" signs for
    "Hélène Côté", "jean francois" for "Jean-François")."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = re.sub(r"[\s\-‐‑–—'’.]+", " ", plain)
    return plain.casefold().strip()


def _check_signature(user: User, typed_name: str, agreed: bool) -> None:
    account_name = user.get_full_name().strip()
    if not account_name:
        raise PrepareError(_(MSG_ACCOUNT_HAS_NO_NAME))
    if name_key(typed_name) != name_key(account_name):
        raise PrepareError(_(MSG_NAME_MISMATCH) % {"name": account_name})
    if not agreed:
        raise PrepareError(_(MSG_AGREE_REQUIRED))


def _document_shown(kind: str, language: str, shown_sha256: str, now) -> ConsentDocument:
    """The document in force that the person was shown, or a refusal: the
    fingerprint posted with the form is that of the text rendered, so a text
    changed (a new version in force) while they read is not signed unseen."""
    document = document_in_force(kind=kind, language=language, now=now)
    if document is None:
        raise PrepareError(_(MSG_NO_DOCUMENT))
    if shown_sha256 != document.sha256:
        raise PrepareError(_(MSG_TEXT_CHANGED))
    return document


def _latest_answer(course: Course, kind: str) -> Consent | None:
    return (
        Consent.objects.filter(course=course, document__kind=kind)
        .select_related("document")
        .order_by("-at", "-pk")
        .first()
    )


def consent_sign(
    *,
    course: Course,
    kind: str,
    language: str,
    shown_sha256: str,
    typed_name: str,
    agreed: bool,
    ip: str | None = None,
    now: datetime | None = None,
) -> tuple[Consent, bool]:
    """The client signs the document in force that they were shown, by
    typing their full name (as on their account) and ticking agreement.
    Returns (consent, created): signing a version already signed records
    nothing new. A signed treatment consent may complete the prepare gate."""
    now = now or timezone.now()
    with transaction.atomic():
        current = _lock(course)
        _require_open(current)
        document = _document_shown(kind, language, shown_sha256, now)
        _check_signature(current.client.user, typed_name, agreed)
        if kind == ConsentDocument.Kind.TREATMENT:
            existing = treatment_consent_current(current, now)
        else:
            existing = filming_consent_active(current)
        if existing is not None and existing.document.version == document.version:
            return existing, False
        consent = Consent(
            course=current,
            document=document,
            decision=Consent.Decision.SIGNED,
            typed_name=typed_name.strip(),
            text_sha256=document.sha256,
            language=document.language,
            at=now,
            ip_address=ip,
        )
        consent.full_clean(validate_constraints=False)
        consent.save()
        if kind == ConsentDocument.Kind.TREATMENT:
            _advance(current, EVENT_CONSENT_SIGNED)
    return consent, True


def filming_decline(
    *,
    course: Course,
    language: str,
    shown_sha256: str,
    ip: str | None = None,
    now: datetime | None = None,
) -> tuple[Consent, bool]:
    """The client declines the filming of their sessions. Care goes on the
    same; a consent already given is withdrawn, not declined."""
    now = now or timezone.now()
    kind = ConsentDocument.Kind.FILMING
    with transaction.atomic():
        current = _lock(course)
        _require_open(current)
        document = _document_shown(kind, language, shown_sha256, now)
        if filming_consent_active(current) is not None:
            raise PrepareError(_(MSG_WITHDRAW_INSTEAD))
        latest = _latest_answer(current, kind)
        if (
            latest is not None
            and latest.decision == Consent.Decision.DECLINED
            and latest.document.version == document.version
        ):
            return latest, False
        consent = Consent(
            course=current,
            document=document,
            decision=Consent.Decision.DECLINED,
            text_sha256=document.sha256,
            language=document.language,
            at=now,
            ip_address=ip,
        )
        consent.full_clean(validate_constraints=False)
        consent.save()
    return consent, True


def filming_withdraw(
    *, course: Course, ip: str | None = None, now: datetime | None = None
) -> tuple[Consent, bool]:
    """The client withdraws their filming consent, at any time and in any
    stage: a withdrawal row pointing to the signature, and an outbox row
    (FILMING_WITHDRAWN) in the same transaction, from which the course's
    recordings are queued for deletion. Returns (withdrawal, created)."""
    now = now or timezone.now()
    kind = ConsentDocument.Kind.FILMING
    with transaction.atomic():
        current = _lock(course)
        active = filming_consent_active(current)
        if active is None:
            latest = _latest_answer(current, kind)
            if latest is not None and latest.decision == Consent.Decision.WITHDRAWN:
                return latest, False  # a double submit: already withdrawn
            raise PrepareError(_(MSG_NOTHING_TO_WITHDRAW))
        withdrawal = Consent(
            course=current,
            document=active.document,
            decision=Consent.Decision.WITHDRAWN,
            text_sha256=active.text_sha256,
            language=active.language,
            at=now,
            ip_address=ip,
            withdraws=active,
        )
        withdrawal.full_clean(validate_constraints=False)
        withdrawal.save()
        outbox_enqueue(
            kind=FILMING_WITHDRAWN,
            key=str(withdrawal.uuid),
            payload={
                "course": str(current.uuid),
                "consent": str(active.uuid),
                "withdrawal": str(withdrawal.uuid),
            },
        )
    return withdrawal, True
