"""Demo data: two clinics, rooms, staff of every role and clients at every
stage, created through the services so every course has its events.
Running it again changes nothing."""

import uuid
from datetime import time, timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from clinic.accounts import client_register, staff_profile_create
from clinic.calendar import appointment_book
from clinic.invitations import has_authenticator, invitation_link, staff_invitation_issue
from clinic.journey import FORWARD, course_transition
from clinic.models import (
    AppointmentKind,
    ClientProfile,
    Clinic,
    Concern,
    Province,
    Room,
    StaffProfile,
    StaffRole,
    Stage,
    User,
)
from intake import services as intake_services
from intake.models import AvailabilityWindow, BookingRules, IntakeCall
from sessions import content as preparation_content
from sessions.models import PreparationAppointment
from sessions.selectors.gates import current_module_versions, documents_in_force
from sessions.services import prepare as prepare_services

# A printed demo login: seed_demo refuses to run in production.
DEMO_PASSWORD = "demo-clinic-2026"  # nosec B105

CLINICS = [
    {
        "slug": "montreal",
        "name": "Montréal",
        "province": Province.QC,
        "time_zone": "America/Toronto",
        "street_address": "1500 rue Sherbrooke Ouest, bureau 300",
        "city": "Montréal",
        "postal_code": "H3G 1L3",
        "phone": "+1 514 555 0142",
        "email": "montreal@clinic.example",
        "minimum_client_age": 18,
        "rooms": [("Salle Fleuve", True), ("Salle Mont-Royal", True), ("Bureau 2", False)],
    },
    {
        "slug": "vancouver",
        "name": "Vancouver",
        "province": Province.BC,
        "time_zone": "America/Vancouver",
        "street_address": "900 West Broadway, Suite 210",
        "city": "Vancouver",
        "postal_code": "V5Z 1K5",
        "phone": "+1 604 555 0175",
        "email": "vancouver@clinic.example",
        "minimum_client_age": 19,
        "rooms": [("Cedar Room", True), ("Harbour Room", True), ("Office 1", False)],
    },
]

STAFF = [
    # email, first, last, role, profession, registration, clinics, language
    (
        "therapist.mtl@clinic.example",
        "Camille",
        "Gagnon",
        StaffRole.THERAPIST,
        "Psychologue",
        "OPQ 12345",
        ["montreal"],
        "fr",
    ),
    (
        "md.mtl@clinic.example",
        "Marc",
        "Lévesque",
        StaffRole.MEDICAL_PRACTITIONER,
        "Médecin de famille",
        "CMQ 98765",
        ["montreal"],
        "fr",
    ),
    (
        "coordinator.mtl@clinic.example",
        "Sophie",
        "Roy",
        StaffRole.COORDINATOR,
        "Coordonnatrice",
        "",
        ["montreal"],
        "fr",
    ),
    (
        "therapist.van@clinic.example",
        "Jordan",
        "Lee",
        StaffRole.THERAPIST,
        "Registered Clinical Counsellor",
        "BCACC 4521",
        ["vancouver"],
        "en",
    ),
    (
        "md.van@clinic.example",
        "Priya",
        "Singh",
        StaffRole.MEDICAL_PRACTITIONER,
        "Physician",
        "CPSBC 33210",
        ["vancouver"],
        "en",
    ),
    (
        "coordinator.van@clinic.example",
        "Alex",
        "Martin",
        StaffRole.COORDINATOR,
        "Care coordinator",
        "",
        ["vancouver"],
        "en",
    ),
    (
        "privacy@clinic.example",
        "Nadia",
        "Bouchard",
        StaffRole.PRIVACY_OFFICER,
        "Privacy officer",
        "",
        ["montreal", "vancouver"],
        "fr",
    ),
]

# The path through the journey that leaves a course in each stage.
PATHS = {
    Stage.CONNECT: [],
    Stage.PREPARE: [Stage.PREPARE],
    Stage.DOSING: [Stage.PREPARE, Stage.DOSING],
    Stage.INTEGRATE: [Stage.PREPARE, Stage.DOSING, Stage.INTEGRATE],
    Stage.RECONNECT: [Stage.PREPARE, Stage.DOSING, Stage.INTEGRATE, Stage.RECONNECT],
    Stage.DECLINED: [Stage.DECLINED],
    Stage.ON_HOLD: [Stage.PREPARE, Stage.ON_HOLD],
    Stage.WITHDRAWN: [Stage.PREPARE, Stage.WITHDRAWN],
}
CLIENT_NAMES = {
    "montreal": [
        ("Élodie", "Côté"),
        ("Louis", "Bergeron"),
        ("Amélie", "Pelletier"),
        ("Julien", "Morin"),
        ("Chloé", "Fortin"),
        ("Mathieu", "Girard"),
        ("Léa", "Caron"),
        ("Olivier", "Bélanger"),
    ],
    "vancouver": [
        ("Emma", "Wilson"),
        ("Liam", "Chen"),
        ("Olivia", "Brown"),
        ("Noah", "Nguyen"),
        ("Ava", "Taylor"),
        ("Ethan", "Patel"),
        ("Mia", "Thompson"),
        ("Lucas", "Kim"),
    ],
}


def _user(email: str, first: str, last: str, language: str, **extra) -> tuple[User, bool]:
    user, created = User.objects.get_or_create(
        email=email,
        defaults={"first_name": first, "last_name": last, "preferred_language": language, **extra},
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user, created


class Command(BaseCommand):
    help = "Create demo clinics, staff and clients at every stage (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--quiet", action="store_true", help="Do not print the demo logins.")

    def handle(self, *args, quiet=False, **options):
        self._seed(quiet=quiet)
        # Integration groups go through their services, each its own durable
        # transaction (the group's lock is released at its commit).
        from demo.groups import seed_demo_groups

        seed_demo_groups()

    @transaction.atomic
    def _seed(self, *, quiet=False):
        if settings.PRODUCTION:
            raise CommandError("Refusing to load demo people into a production database.")
        clinics = {}
        for spec in CLINICS:
            spec = dict(spec)
            rooms = spec.pop("rooms")
            clinic, _ = Clinic.objects.get_or_create(slug=spec["slug"], defaults=spec)
            clinics[clinic.slug] = clinic
            for name, dosing in rooms:
                Room.objects.get_or_create(
                    clinic=clinic, name=name, defaults={"is_dosing_room": dosing}
                )

        clinicians = {}
        practitioners = {}
        coordinators = {}
        # Watching session recordings is granted person by person (README, "Recordings"):
        # the demo's medical practitioners hold it.
        download_recording = Permission.objects.get(
            codename="download_recording", content_type__app_label="dosing"
        )
        for email, first, last, role, profession, registration, slugs, language in STAFF:
            user, _ = _user(email, first, last, language)
            if not StaffProfile.objects.filter(user=user).exists():
                staff_profile_create(
                    user=user,
                    role=role,
                    clinics=[clinics[s] for s in slugs],
                    profession=profession,
                    registration_number=registration,
                    bio="",
                )
            if role == StaffRole.THERAPIST:
                clinicians[slugs[0]] = user
            if role == StaffRole.MEDICAL_PRACTITIONER:
                practitioners[slugs[0]] = user
                user.user_permissions.add(download_recording)
            if role == StaffRole.COORDINATOR:
                coordinators[slugs[0]] = user

        admin, _ = _user(
            "admin@clinic.example", "Admin", "Demo", "en", is_staff=True, is_superuser=True
        )
        # The modules and consents a clinic starts with (a migration installs
        # them too; a flushed database gets them back here).
        preparation_content.install()

        # Intake calls: weekdays 9:00-17:00 local with each clinic's therapist,
        # and the clinic's default booking rules.
        for slug, clinic in clinics.items():
            BookingRules.objects.get_or_create(clinic=clinic)
            for weekday in range(5):
                AvailabilityWindow.objects.get_or_create(
                    clinic=clinic,
                    staff=clinicians[slug],
                    weekday=weekday,
                    defaults={"start_time": time(9), "end_time": time(17)},
                )

        for slug, clinic in clinics.items():
            language = "fr" if clinic.province == Province.QC else "en"
            for (stage, path), (first, last) in zip(PATHS.items(), CLIENT_NAMES[slug], strict=True):
                email = f"client.{stage.value.replace('_', '')}.{slug}@example.com"
                user, created = _user(email, first, last, language)
                if not created and ClientProfile.objects.filter(user=user).exists():
                    continue
                profile = client_register(user=user, clinic=clinic, phone=clinic.phone)
                course = profile.courses.get()
                if path:
                    # Through the real services: a held intake call, a screening sent,
                    # a clinician's decision (which moves the course itself).
                    # The prepare client's call shows a correction in its history.
                    _held_intake_call(course, clinicians[slug], corrected=stage == Stage.PREPARE)
                    _screened(course, clinicians[slug], eligible=path[0] != Stage.DECLINED)
                    course.refresh_from_db()
                if Stage.DOSING in path:
                    _prepared(course, practitioners[slug])
                    course.refresh_from_db()
                elif stage == Stage.PREPARE:
                    _read_modules(course, count=2)
                # The services may have moved the course on already (a signed
                # consent completes the prepare gate): go on from where it is.
                done = path.index(course.stage) + 1 if course.stage in path else 0
                for target in path[done:]:
                    # Integrate opens through the session record: a series
                    # held to its last discharge.
                    if target == Stage.INTEGRATE:
                        _dosing_gate(course, clinicians[slug], practitioners[slug])
                        course.refresh_from_db()
                    # Reconnect opens when the therapist closes the integration plan.
                    if target == Stage.RECONNECT:
                        from integration.reconnect.services import integration_plan_close

                        integration_plan_close(
                            course=course,
                            actor=clinicians[slug],
                            summary="Demo: integration sessions held; the client keeps a journal "
                            "and would like to join a group.",
                        )
                        course.refresh_from_db()
                    if course.stage == target:
                        continue
                    reason = "" if target in FORWARD.values() else "Demo"
                    course_transition(
                        course=course, to_stage=target, actor=clinicians[slug], reason=reason
                    )
                # Months of scores after the series: the integrate client
                # has one follow-up due now, the reconnect client three answered
                # (in Vancouver, one that worsened: the clinicians' list shows it).
                if stage in (Stage.INTEGRATE, Stage.RECONNECT):
                    from demo.measures_seed import demo_scores

                    worse = slug == "vancouver" and stage == Stage.RECONNECT
                    demo_scores(
                        course,
                        ended_days_ago=35 if stage == Stage.INTEGRATE else 100,
                        scores=[(11, 9), (16, 12), (17, 13)]
                        if worse
                        else [(8, 7), (5, 5), (3, 4)][: 1 if stage == Stage.INTEGRATE else 3],
                    )
                # What the room board shows ahead, booked as a coordinator would.
                team = {
                    StaffRole.THERAPIST: clinicians[slug],
                    StaffRole.MEDICAL_PRACTITIONER: practitioners[slug],
                    StaffRole.COORDINATOR: coordinators[slug],
                }
                if stage == Stage.PREPARE:
                    _preparation_booked(course, team)
                elif stage == Stage.DOSING:
                    _series_planned(course, team)

        # Billing: catalogues, the coordinators' permissions, invoices of the
        # appointments held above, payments and a credit note (demo/billing.py).
        from demo.billing import billing_seed

        billing_seed(clinics=clinics, coordinators=coordinators)
        # The review queue: in each clinic, screenings sent and waiting for a
        # clinician, one of them with a risk of self-harm signalled.
        for slug, clinic in clinics.items():
            language = "fr" if clinic.province == Province.QC else "en"
            for key, (first, last), answers in WAITING_SCREENINGS:
                user, created = _user(f"client.{key}.{slug}@example.com", first, last, language)
                if not created and ClientProfile.objects.filter(user=user).exists():
                    continue
                profile = client_register(user=user, clinic=clinic, phone=clinic.phone)
                _sent(profile, answers)

        # An integration session held the day after each finished series.
        from demo.integration_sessions import seed_integration_sessions

        seed_integration_sessions()

        # Staff set up two-factor authentication only through an invitation
        # (clinic/invitations.py): each demo staff member without an
        # authenticator gets a fresh one at every run (the links cannot be
        # read back from the database, which keeps only their hashes).
        links = {}
        for email in [spec[0] for spec in STAFF] + [admin.email]:
            user = User.objects.get(email=email)
            if not has_authenticator(user):
                _invitation, token = staff_invitation_issue(user=user, actor=None)
                links[email] = invitation_link(token)

        if not quiet:
            self.stdout.write(
                self.style.SUCCESS(
                    "Demo data is ready. Every demo account's password: " + DEMO_PASSWORD
                )
            )
            self.stdout.write(
                "  Clients (one per stage and clinic), e.g. client.connect.montreal@example.com,"
            )
            self.stdout.write(
                "    client.prepare.vancouver@example.com, client.onhold.montreal@example.com"
            )
            self.stdout.write(
                "  Staff: open your invitation link once, sign in with the password and set up"
            )
            self.stdout.write(
                "  two-factor authentication (any TOTP app); then sign in as usual. Each run"
            )
            self.stdout.write("  of seed_demo sends new links (the earlier ones stop working).")
            for email in [spec[0] for spec in STAFF] + [admin.email]:
                role = " (superuser, Django admin)" if email == admin.email else ""
                self.stdout.write(f"    {email}{role}")
                self.stdout.write(
                    f"      {links.get(email, 'two-factor authentication already set up')}"
                )


def _held_intake_call(course, clinician, *, corrected: bool = False) -> None:
    """A past intake call, held: the condition for leaving the connect stage.
    `corrected`: its notes were completed afterwards, with a reason, so the
    call's history shows a correction."""
    # One hour apart: the clinician is never double-booked.
    start = _past_working_hour(course.clinic, days_ago=30, index=IntakeCall.objects.count())

    appointment = appointment_book(
        clinic=course.clinic,
        kind=AppointmentKind.INTAKE_CALL,
        start=start,
        end=start + timedelta(minutes=30),
        staff=[clinician],
        client=course.client,
    )
    call = IntakeCall(
        appointment=appointment,
        course=course,
        concern=Concern.DEPRESSION,
        language=course.client.user.preferred_language,
        phone=course.clinic.phone,
        consent_to_contact=True,
        submission=uuid.uuid4(),
    )
    call.full_clean()
    call.save()
    record = intake_services.intake_call_record_outcome(
        intake_call=call, outcome="held", notes="Demo: good fit for the program.", actor=clinician
    )
    if corrected:
        intake_services.intake_call_correct_outcome(
            intake_call=call,
            outcome="held",
            notes="Demo: good fit for the program. Sleeps poorly since the spring.",
            reason="Demo: added what the client said about their sleep.",
            actor=clinician,
            seen_outcome_id=record.pk,
        )


# Clients whose screening waits for a decision (the review queue's demo).
WAITING_SCREENINGS = [
    (
        "risk",
        ("Noah", "Gagnon"),
        {"safety_now": "yes", "phq9": [2, 3, 2, 2, 1, 2, 1, 1, 1], "hypertension": "unsure"},
    ),
    ("review", ("Maya", "Singh"), {"heart_disease": "yes", "medication_classes": ["maoi"]}),
]


def _sent(profile, answers: dict) -> None:
    """A screening filled in and sent through the services, no decision yet."""
    from eligibility import screener as screener_module
    from eligibility import services as eligibility_services

    screening = eligibility_services.screening_start(client=profile)
    for step in screener_module.steps(screening.screener_version):
        screening, _crisis = eligibility_services.screening_save_step(
            screening=screening,
            step=step,
            answers={**screener_module.EXAMPLE_ANSWERS, **answers},
        )
    eligibility_services.screening_submit(screening=screening)


def _screened(course, clinician, *, eligible: bool) -> None:
    """A screening filled in and decided on."""
    from eligibility import screener as screener_module
    from eligibility import services as eligibility_services

    screening = eligibility_services.screening_start(client=course.client)
    for step in screener_module.steps(screening.screener_version):
        screening, _crisis = eligibility_services.screening_save_step(
            screening=screening, step=step, answers=dict(screener_module.EXAMPLE_ANSWERS)
        )
    screening = eligibility_services.screening_submit(screening=screening)
    eligibility_services.decision_record(
        screening=screening,
        clinician=clinician,
        kind="eligible" if eligible else "not_eligible",
        note="Demo: a good fit for the program."
        if eligible
        else "Demo: the program is not the right fit at present.",
    )


def _rooms(clinic) -> tuple[Room, Room]:
    """The clinic's first dosing room and its first other room."""
    rooms = list(Room.objects.filter(clinic=clinic).order_by("name"))
    return (
        next(r for r in rooms if r.is_dosing_room),
        next(r for r in rooms if not r.is_dosing_room),
    )


def _past_working_hour(clinic, *, days_ago: int, index: int):
    """The `index`th working hour (9:00 to 17:00, clinic time) counted back
    from `days_ago` days ago: the demo's history happens in the day, where it
    never meets the evening groups planned after it, whatever the hour the
    demo is seeded at."""
    from datetime import datetime

    day = timezone.localdate(timezone=clinic.zone) - timedelta(days=days_ago + index // 8)
    return datetime.combine(day, time(9 + index % 8), tzinfo=clinic.zone)


def _weekday_at(days_ahead: int, clinic, hour: int, minute: int = 0):
    """A weekday at least `days_ahead` days from today, at this local time."""
    from datetime import datetime

    day = timezone.localdate(timezone=clinic.zone) + timedelta(days=days_ahead)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, time(hour, minute), tzinfo=clinic.zone)


def _preparation_booked(course, team) -> None:
    """The prepare client: a medical assessment, then a preparatory session,
    booked through the scheduling services as on the room board."""
    from sessions.services import scheduling

    _dosing_room, office = _rooms(course.clinic)
    coordinator = team[StaffRole.COORDINATOR]
    scheduling.preparation_appointment_book(
        course=course,
        kind=AppointmentKind.MEDICAL_ASSESSMENT,
        start=_weekday_at(1, course.clinic, 13),
        staff_member=team[StaffRole.MEDICAL_PRACTITIONER],
        room=office,
        actor=coordinator,
    )
    scheduling.preparation_appointment_book(
        course=course,
        kind=AppointmentKind.PREPARATORY_SESSION,
        start=_weekday_at(3, course.clinic, 14),
        minutes=90,
        staff_member=team[StaffRole.THERAPIST],
        room=office,
        actor=coordinator,
    )


def _series_planned(course, team) -> None:
    """The dosing client: a whole series booked ahead, a session a week."""
    from sessions.services import scheduling

    dosing_room, _office = _rooms(course.clinic)
    first = _weekday_at(2, course.clinic, 9)
    scheduling.dosing_sessions_book(
        course=course,
        starts=scheduling.series_starts(clinic=course.clinic, first=first, count=6, every_days=7),
        team=scheduling.DosingTeam(
            room=dosing_room,
            therapist=team[StaffRole.THERAPIST],
            practitioner=team[StaffRole.MEDICAL_PRACTITIONER],
        ),
        actor=team[StaffRole.COORDINATOR],
    )


def _read_modules(course, *, count: int | None = None) -> None:
    for version in current_module_versions()[:count]:
        prepare_services.module_complete(
            course=course, module=version.module, version_number=version.number
        )


def _prepared(course, practitioner) -> None:
    """Everything the prepare stage asks: a medical assessment held and
    cleared, every module read, both consents signed, the preferences given
    (the consent, signed last, moves the course to dosing by itself)."""
    from demo import dosing_record

    earlier = PreparationAppointment.objects.count()  # two hours apart, as the intake calls
    start = _past_working_hour(course.clinic, days_ago=20, index=2 * earlier)
    # Through the session record's services (held, then signed off as cleared).
    dosing_record.cleared_assessment(course=course, practitioner=practitioner, start=start)
    _read_modules(course)
    user = course.client.user
    prepare_services.preferences_save(
        course=course,
        eye_shades="yes",
        sound="music",
        escort_name="Demo escort",
        escort_phone=course.clinic.phone,
        notes="",
    )
    for kind in ("filming", "treatment"):
        document = next(
            d for d in documents_in_force(kind) if d.language == user.preferred_language
        )
        prepare_services.consent_sign(
            course=course,
            kind=kind,
            language=document.language,
            shown_sha256=document.sha256,
            typed_name=user.get_full_name(),
            agreed=True,
        )


def _dosing_gate(course, therapist, practitioner) -> None:
    """What the session record needs before integrate: a series held to its
    last discharge, at past times that keep everyone in one place at a time."""
    from demo import dosing_record
    from sessions.models import DosingSession

    earlier = DosingSession.objects.count()
    room = Room.objects.filter(clinic=course.clinic, is_dosing_room=True).first()
    dosing_record.completed_series(
        course=course,
        therapist=therapist,
        practitioner=practitioner,
        room=room,
        start=_past_working_hour(course.clinic, days_ago=8, index=4 * earlier),
    )
