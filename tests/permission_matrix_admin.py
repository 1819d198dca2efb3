"""The admin's part of the permission matrix (driven by test_permission_matrix).

`ADMIN_ACCESS` is what each staff role may do with each registered model in
the admin: v(iew), a(dd), c(hange), d(elete). The role groups' permissions
must say the same (plus `INLINE_PERMISSIONS`, the models an admin page shows
inline), and every admin URL (changelist, add, change, history, delete, the
actions, the admins' own pages) is requested, GET and POST, with a real
object of the person's clinic and one of the other clinic. What the table
says decides the answer; the changelist must list the first and not the
second, and the other clinic's object is unchanged after every request."""

import re
import uuid
from datetime import date, timedelta
from decimal import Decimal

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from clinic import calendar
from clinic.access_log import access_log_record, access_log_seal
from clinic.models import (
    AccessLogArchive,
    AccountClosureRequest,
    AppointmentKind,
    ConfidentialityIncident,
    OutboxMessage,
    Room,
    StaffInvitation,
    StaffRole,
)
from clinic.tests.factories import client_create, staff_create

ROLES = {
    "therapist": StaffRole.THERAPIST,
    "medical_practitioner": StaffRole.MEDICAL_PRACTITIONER,
    "coordinator": StaffRole.COORDINATOR,
    "privacy_officer": StaffRole.PRIVACY_OFFICER,
    "other_clinic_therapist": StaffRole.THERAPIST,
}
CLINICIANS = {StaffRole.THERAPIST: "v", StaffRole.MEDICAL_PRACTITIONER: "v"}
CARE = {**CLINICIANS, StaffRole.COORDINATOR: "v"}
NOBODY: dict[str, str] = {}  # superusers only

ADMIN_ACCESS: dict[str, dict[str, str]] = {
    "auth.group": NOBODY,
    "account.emailaddress": NOBODY,
    "mfa.authenticator": NOBODY,
    "usersessions.usersession": NOBODY,
    "clinic.user": NOBODY,
    "clinic.clinic": NOBODY,
    "clinic.outboxmessage": NOBODY,
    "intake.interestregistration": NOBODY,
    "dosing.preparationmodule": NOBODY,
    "dosing.consentdocument": NOBODY,
    "integration.measuresettings": NOBODY,  # a clinic's questionnaire schedule
    "integration.integrationsessionsettings": NOBODY,  # a clinic's integration window
    # The privacy officer's registers and the staff they invite.
    "clinic.accesslogentry": {StaffRole.PRIVACY_OFFICER: "v"},
    "clinic.accesslogarchive": NOBODY,  # months archived, every clinic's: superusers
    "clinic.accountclosurerequest": {StaffRole.PRIVACY_OFFICER: "vc"},
    "clinic.confidentialityincident": {StaffRole.PRIVACY_OFFICER: "vac"},
    "clinic.staffprofile": {StaffRole.PRIVACY_OFFICER: "v"},
    "clinic.staffinvitation": {StaffRole.PRIVACY_OFFICER: "v"},
    # The coordinators' scheduling (a room is taken out of use, never deleted).
    "clinic.room": {StaffRole.COORDINATOR: "vac"},
    "intake.bookingrules": {StaffRole.COORDINATOR: "vc"},
    "intake.availabilitywindow": {StaffRole.COORDINATOR: "vacd"},
    "intake.availabilityexception": {StaffRole.COORDINATOR: "vacd"},
    # The coordinators' billing: the catalogue (prices are dated rows, never
    # deleted: an issued invoice may have used one), their clinic's billing
    # settings, the provinces' tax rates (read only); invoices and payments
    # are read here and change only through billing's pages.
    "billing.catalogueitem": {StaffRole.COORDINATOR: "vac"},
    "billing.clinicbilling": {StaffRole.COORDINATOR: "vc"},
    "billing.taxrate": {StaffRole.COORDINATOR: "v"},
    "billing.invoice": {StaffRole.COORDINATOR: "v"},
    "billing.payment": {StaffRole.COORDINATOR: "v"},
    # What the care team reads; the course's change page leads to the stage change.
    "clinic.clientprofile": CARE,
    "clinic.course": {role: "vc" for role in CARE},
    "clinic.journeyevent": CARE,
    "clinic.appointment": CARE,
    "dosing.dosingsettings": CARE,
    "dosing.preparationappointment": CARE,
    "dosing.dosingseries": CARE,
    "dosing.dosingsession": CARE,
    # Clinical records: clinicians only.
    "eligibility.screening": CLINICIANS,
    "intake.intakecall": CLINICIANS,
    "dosing.consent": CLINICIANS,
}
# Shown inside another model's page (an appointment's people and room, a
# call's outcomes), never on their own.
INLINE_PERMISSIONS = {
    StaffRole.THERAPIST: {"clinic.view_reservation", "intake.view_intakecalloutcome"},
    StaffRole.MEDICAL_PRACTITIONER: {"clinic.view_reservation", "intake.view_intakecalloutcome"},
    StaffRole.COORDINATOR: {"clinic.view_reservation", "billing.view_invoiceline"},
    StaffRole.PRIVACY_OFFICER: set(),
}
# Held for the stages' own pages, not the admin's: billing's pages draft
# invoices (add_invoice: the invoices' admin is read-only whoever asks, and
# the table above proves a coordinator cannot add one there), issue them,
# record payments and download the breakdown.
PAGE_PERMISSIONS = {
    StaffRole.COORDINATOR: {
        "billing.add_invoice",
        "billing.issue_invoice",
        "billing.record_payment",
        "billing.download_breakdown",
        "billing.build_statements",
    },
}
ACTION_LETTER = {"v": "view", "a": "add", "c": "change", "d": "delete"}


def expected_group_permissions(role: str) -> set[str]:
    names = set(INLINE_PERMISSIONS[role]) | PAGE_PERMISSIONS.get(role, set())
    for label, access in ADMIN_ACCESS.items():
        app_label, model = label.split(".")
        names |= {f"{app_label}.{ACTION_LETTER[letter]}_{model}" for letter in access.get(role, "")}
    return names


def group_permissions(role: str) -> set[str]:
    return {
        f"{app_label}.{codename}"
        for app_label, codename in Group.objects.get(name=role).permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


# --- The objects: one at client A's clinic (Montréal), one at the other (Vancouver) -------


def _sealed(*entries):
    """The entries as the sealer leaves them, hashes and all (the matrix
    looks for the other clinic's entry by its hash in an export)."""
    access_log_seal()
    for entry in entries:
        entry.refresh_from_db()
    return entries


def admin_objects(world, clinic_bc, other_clinic_therapist) -> dict[str, tuple]:
    """label -> (the Montréal object, the Vancouver object or None for a
    model no clinic owns)."""
    from billing import services as billing_services
    from billing.models import ClinicBilling, PaymentMethod, TaxRate
    from billing.tests.factories import billing_ready, held
    from eligibility.tests.factories import submitted_screening
    from intake.models import AvailabilityException, AvailabilityWindow
    from intake.models import InterestRegistration as Interest
    from intake.selectors import intake_slots
    from intake.tests.factories import book_call, rules, weekly_availability
    from integration.individual.models import IntegrationSessionSettings
    from integration.measures.models import MeasureSettings
    from sessions.models import (
        Consent,
        ConsentDocument,
        DosingSettings,
        PreparationAppointment,
        PreparationModule,
    )
    from sessions.tests.record_factories import session_at

    qc = world["clinic"]
    people = world["people"]
    course_a = world["course"]
    client_a = course_a.client
    client_bc = client_create(clinic=clinic_bc, email="client.bc@example.com")
    course_bc = client_bc.courses.get()
    practitioner_bc = staff_create(
        role=StaffRole.MEDICAL_PRACTITIONER, clinics=[clinic_bc], email="md.bc@example.com"
    )
    room_qc = world["appointment"].room
    room_bc = Room.objects.create(clinic=clinic_bc, name="Salle BC", is_dosing_room=True)

    rules(clinic_bc, minimum_notice_hours=0)
    weekly_availability(clinic_bc, other_clinic_therapist)
    slot_bc = next(s for day in intake_slots(clinic=clinic_bc).values() for s in day)
    call_bc = book_call(
        clinic_bc, slot_bc.start, email=client_bc.user.email, concern="anxiety", user=client_bc.user
    )
    start_bc = slot_bc.start + timedelta(days=2)
    preparation_bc = PreparationAppointment.objects.create(
        appointment=calendar.appointment_book(
            clinic=clinic_bc,
            kind=AppointmentKind.PREPARATORY_SESSION,
            start=start_bc,
            end=start_bc + timedelta(hours=1),
            staff=[other_clinic_therapist],
            client=client_bc,
            room=room_bc,
        ),
        course=course_bc,
        booked_by=other_clinic_therapist,
    )
    session_bc = session_at(
        course_bc,
        other_clinic_therapist,
        practitioner_bc,
        start=slot_bc.start + timedelta(days=3),
        room=room_bc,
    )
    document = world["consent"].document
    consent_bc = Consent.objects.create(
        course=course_bc,
        document=document,
        decision=Consent.Decision.SIGNED,
        typed_name="BC",
        text_sha256=document.sha256,
        language="en",
    )

    def closure(clinic):
        start = timezone.now() + timedelta(days=60)
        return AvailabilityException.objects.create(
            clinic=clinic, start=start, end=start + timedelta(days=1), reason="Holiday"
        )

    def incident(clinic, by):
        return ConfidentialityIncident.objects.create(
            clinic=clinic,
            discovered_on=date(2026, 1, 5),
            nature="A letter sent to the wrong address.",
            data_affected="Name",
            people_affected=1,
            risk=ConfidentialityIncident.Risk.choices[0][0],
            recorded_by=by,
        )

    def invitation(user):
        now = timezone.now()
        return StaffInvitation.objects.create(
            user=user,
            purpose=StaffInvitation.Purpose.ENROL,
            token_hash=f"{user.pk:064d}",
            created_at=now,
            expires_at=now + timedelta(hours=24),
        )

    # Each clinic's catalogue and settings, an issued invoice with a payment.
    billing_ready(clinic_bc)
    coordinator_bc = staff_create(
        role=StaffRole.COORDINATOR, clinics=[clinic_bc], email="coordinator.bc@example.com"
    )
    month_ago = timezone.now().replace(microsecond=0) - timedelta(days=30)
    invoice_bc = billing_services.invoice_issue(
        invoice=billing_services.invoice_draft(
            client=client_bc,
            appointments=[held(client=client_bc, start=month_ago, staff=[other_clinic_therapist])],
            actor=coordinator_bc,
        ),
        actor=coordinator_bc,
    )

    def payment(invoice, by):
        return billing_services.payment_record(
            invoice=invoice,
            method=PaymentMethod.choices[0][0],
            amount=Decimal("10.00"),
            received_on=timezone.localdate(),
            reference="",
            submission=uuid.uuid4(),
            actor=by,
        )[0]

    officer = people["privacy_officer"]
    objects = {
        "auth.group": (Group.objects.get(name=StaffRole.THERAPIST), None),
        "account.emailaddress": (EmailAddress.objects.get(user=client_a.user), None),
        "mfa.authenticator": (
            Authenticator.objects.create(
                user=client_a.user, type=Authenticator.Type.RECOVERY_CODES, data={}
            ),
            None,
        ),
        "usersessions.usersession": (
            UserSession.objects.create(
                user=client_a.user, ip="127.0.0.1", session_key="k" * 32, user_agent="test"
            ),
            None,
        ),
        "clinic.user": (client_a.user, None),
        "clinic.clinic": (qc, None),
        "clinic.outboxmessage": (OutboxMessage.objects.first(), None),
        "intake.interestregistration": (Interest.objects.first(), None),
        "dosing.preparationmodule": (PreparationModule.objects.first(), None),
        "dosing.consentdocument": (ConsentDocument.objects.first(), None),
        "clinic.accesslogentry": _sealed(
            access_log_record(actor=people["therapist"], client=client_a, obj=course_a),
            access_log_record(actor=other_clinic_therapist, client=client_bc, obj=course_bc),
        ),
        "clinic.accesslogarchive": (
            AccessLogArchive.objects.create(
                month=date(2020, 1, 1), file_name="f", sha256="0" * 64, rows=0
            ),
            None,
        ),
        "clinic.accountclosurerequest": (
            AccountClosureRequest.objects.create(client=client_a),
            AccountClosureRequest.objects.create(client=client_bc),
        ),
        "clinic.confidentialityincident": (incident(qc, officer), incident(clinic_bc, officer)),
        "clinic.staffprofile": (
            people["therapist"].staff_profile,
            other_clinic_therapist.staff_profile,
        ),
        "clinic.staffinvitation": (
            invitation(people["coordinator"]),
            invitation(practitioner_bc),
        ),
        "clinic.room": (room_qc, room_bc),
        "intake.bookingrules": (qc.booking_rules, clinic_bc.booking_rules),
        "intake.availabilitywindow": (
            AvailabilityWindow.objects.filter(clinic=qc).first(),
            AvailabilityWindow.objects.filter(clinic=clinic_bc).first(),
        ),
        "intake.availabilityexception": (closure(qc), closure(clinic_bc)),
        "clinic.clientprofile": (client_a, client_bc),
        "clinic.course": (course_a, course_bc),
        "clinic.journeyevent": (course_a.events.first(), course_bc.events.first()),
        "clinic.appointment": (world["appointment"], preparation_bc.appointment),
        "dosing.dosingsettings": (
            DosingSettings.objects.get_or_create(clinic=qc)[0],
            DosingSettings.objects.get_or_create(clinic=clinic_bc)[0],
        ),
        "dosing.preparationappointment": (
            PreparationAppointment.objects.get(appointment=world["appointment"]),
            preparation_bc,
        ),
        "dosing.dosingseries": (world["dosing_session"].series, session_bc.series),
        "dosing.dosingsession": (world["dosing_session"], session_bc),
        "eligibility.screening": (submitted_screening(course_a), submitted_screening(course_bc)),
        "intake.intakecall": (world["call"], call_bc),
        "dosing.consent": (world["consent"], consent_bc),
        "integration.measuresettings": (
            MeasureSettings.objects.get_or_create(clinic=qc)[0],
            MeasureSettings.objects.get_or_create(clinic=clinic_bc)[0],
        ),
        "integration.integrationsessionsettings": (
            IntegrationSessionSettings.objects.get_or_create(clinic=qc)[0],
            IntegrationSessionSettings.objects.get_or_create(clinic=clinic_bc)[0],
        ),
        "billing.catalogueitem": (
            qc.catalogue.first(),
            clinic_bc.catalogue.first(),
        ),
        "billing.clinicbilling": (
            ClinicBilling.objects.get(clinic=qc),
            ClinicBilling.objects.get(clinic=clinic_bc),
        ),
        "billing.taxrate": (TaxRate.objects.filter(province=qc.province).first(), None),
        "billing.invoice": (world["invoice"], invoice_bc),
        "billing.payment": (
            payment(world["invoice"], people["coordinator"]),
            payment(invoice_bc, coordinator_bc),
        ),
    }
    missing = [label for label, (own, _other) in objects.items() if own is None]
    assert not missing, f"no object to request for {missing}"
    return objects


# --- Which URL is which ---------------------------------------------------------------------

MODEL_URL = re.compile(r"^admin/(?P<app>\w+)/(?P<model>\w+)/(?P<rest>.*)$")
OBJECT_KINDS = {
    "<path:object_id>/change/": "change",
    "<path:object_id>/history/": "history",
    "<path:object_id>/delete/": "delete",
    "<path:object_id>/": "bare",  # Django's redirect to the change page
    "<path:object_id>/transition/": "transition",  # the course's stage change
    "<path:object_id>/decide/": "decide",  # the screening's decision
    "<id>/password/": "password",  # the user admin's password form
}
SITE_KINDS = {
    "admin/": "index",
    "admin/login/": "login",
    "admin/logout/": "logout",
    "admin/password_change/": "password_change",
    "admin/password_change/done/": "password_change_done",
    "admin/autocomplete/": "autocomplete",
    "admin/jsi18n/": "jsi18n",
    "admin/r/<path:content_type_id>/<path:object_id>/": "view_on_site",
    "admin/(?P<url>.*)$": "catch_all",
}


def admin_route(pattern: str):
    """(kind, model label or None) for an admin URL pattern, or None when
    the matrix has no rule for it (the test then fails)."""
    if pattern in SITE_KINDS:
        return SITE_KINDS[pattern], None
    if pattern.startswith("admin/^(?P<app_label>"):
        return "app_list", None
    match = MODEL_URL.match(pattern)
    if not match:
        return None
    label = f"{match['app']}.{match['model']}"
    if label not in ADMIN_ACCESS:
        return None
    rest = match["rest"]
    if rest == "":
        return "changelist", label
    if rest == "add/":
        return "add", label
    if rest in OBJECT_KINDS:
        return OBJECT_KINDS[rest], label
    return None


def admin_routes(all_routes) -> list[tuple[str, str, str | None]]:
    """(pattern, kind, label) of every admin URL with a rule."""
    found = []
    for _name, pattern in all_routes:
        if pattern.startswith("admin/") and (route := admin_route(pattern)):
            found.append((pattern, *route))
    return found


def object_path(pattern: str, obj) -> str:
    path = "/" + pattern.replace("<path:object_id>", str(obj.pk))
    return path.replace("<id>", str(obj.pk))


# --- What each person should get -------------------------------------------------------------

OK, AWAY, FORBIDDEN, MISSING, LOGIN, NOT_ALLOWED = (
    "ok",
    "away",
    "forbidden",
    "missing",
    "login",
    "405",
)


def letters(actor: str, label: str) -> str:
    return ADMIN_ACCESS[label].get(ROLES[actor], "")


def expected_for_object(actor: str, kind: str, label: str, method: str, mine: bool) -> set[str]:
    """The answer to a request on one object, by Django's admin rules: a
    refused permission is 403 whatever the object; an object outside the
    person's clinics is "not found" (the admin redirects to its index) or 404
    on the admins' own pages."""
    may = letters(actor, label)
    if kind == "bare":
        return {AWAY}  # Django's redirect to the change page, whoever asks
    if kind == "change":
        needed = "c" if method == "POST" else ("v" if "v" in may else "c")
        if needed not in may:
            return {FORBIDDEN}
        # A refused form shows its errors (200); a form of read-only fields saves as is.
        return ({OK} if method == "GET" else {OK, AWAY}) if mine else {AWAY}
    if kind == "history":
        if not mine:
            return {AWAY}
        return {OK} if "v" in may else {FORBIDDEN}
    if kind == "delete":
        if "d" not in may:
            return {FORBIDDEN}
        if not mine:
            return {AWAY}
        return {OK} if method == "GET" else {AWAY}
    if kind == "transition":
        if not mine:
            return {MISSING}
        # An invalid stage (POST) or the form (GET); without the right to change, the index.
        return {OK} if "c" in may else {AWAY}
    if kind == "decide":
        if not mine:
            return {MISSING}
        return {OK} if (method == "POST" and "v" in may) else {AWAY}
    if kind == "password":
        return {FORBIDDEN} if "c" not in may else ({OK} if mine else {AWAY})
    raise AssertionError(kind)


def expected_for_model(actor: str, kind: str, label: str, method: str) -> set[str]:
    may = letters(actor, label)
    if kind == "changelist":
        if "v" not in may:
            return {FORBIDDEN}
        return {OK, AWAY} if method == "POST" else {OK}
    if kind == "add":
        return {OK} if "a" in may else {FORBIDDEN}
    raise AssertionError(kind)


def expected_for_site(actor: str, kind: str, app_label: str = "") -> set[str]:
    if kind == "app_list":
        opens = any(
            letters(actor, label) for label in ADMIN_ACCESS if label.split(".")[0] == app_label
        )
        return {OK} if opens else {MISSING}
    return {
        "index": {OK},
        "login": {AWAY},  # signed in already: on to the admin
        "logout": {NOT_ALLOWED},  # POST only
        "password_change": {OK, AWAY},
        "password_change_done": {OK, AWAY},
        "autocomplete": {FORBIDDEN},  # without a model and field
        "jsi18n": {OK},
        "view_on_site": {MISSING},  # no model here has a page of its own
        "catch_all": {MISSING},
    }[kind]


def app_labels() -> list[str]:
    return sorted({model._meta.app_label for model in admin.site._registry})


def content_type_path(pattern: str, obj) -> str:
    content_type = ContentType.objects.get_for_model(obj)
    return "/" + pattern.replace("<path:content_type_id>", str(content_type.pk)).replace(
        "<path:object_id>", str(obj.pk)
    )


def add_payload(label: str, other_clinic, other_staff) -> dict:
    """An add form filled for the other clinic: refused as "not a valid choice"."""
    return {
        "clinic": other_clinic.pk,
        "staff": other_staff.pk,
        "name": "Elsewhere",
        "weekday": 1,
        "start_time": "09:00",
        "end_time": "10:00",
        "start_0": "2030-01-01",
        "start_1": "09:00",
        "end_0": "2030-01-02",
        "end_1": "09:00",
        "discovered_on": "2026-01-01",
        "nature": "x",
        "data_affected": "x",
        "people_affected": 1,
        "risk": ConfidentialityIncident.Risk.choices[0][0],
    }


def snapshot(obj) -> dict | None:
    if obj is None:
        return None
    return type(obj)._default_manager.filter(pk=obj.pk).values().first()
