"""A large, realistic data set for benchmarks, written with bulk inserts.

    manage.py seed_scale --clients 10000

Four clinics, their staff and rooms, clients spread over every stage with
their journey events, about twenty appointments each (200,000 for 10,000
clients) with their reservations, intake calls, screenings with PHQ-9 and
GAD-7, and due reminders in the outbox; and each clinic's rooms full on six
weeks of weekdays around today: dosing sessions in series, assessments and
preparatory sessions (30 a day in six rooms). Not for production databases."""

import random
import uuid
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from clinic.models import (
    Appointment,
    AppointmentKind,
    ClientProfile,
    Clinic,
    Course,
    JourneyEvent,
    OutboxMessage,
    Reservation,
    Room,
    StaffProfile,
    StaffRole,
    Stage,
    User,
)
from eligibility.models import QuestionnaireResponse, Screening, ScreeningSubmission
from eligibility.screener import EXAMPLE_ANSWERS
from intake.models import AvailabilityWindow, BookingRules, IntakeCall, IntakeCallOutcome
from sessions.models import DosingSeries, DosingSession, PreparationAppointment

STAGES = (
    [Stage.CONNECT] * 3
    + [Stage.PREPARE, Stage.DOSING, Stage.INTEGRATE, Stage.RECONNECT] * 2
    + [
        Stage.DECLINED,
        Stage.WITHDRAWN,
        Stage.ON_HOLD,
    ]
)
BATCH = 5000


class Command(BaseCommand):
    help = "Create a large data set quickly (bulk inserts) for benchmarks."

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, default=10000)
        parser.add_argument("--appointments-per-client", type=int, default=20)
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument(
            "--access-log-rows",
            type=int,
            default=0,
            help="also write this many access-log entries over the past months "
            "(with --clients 0: for the staff and clients already there)",
        )
        parser.add_argument("--access-log-months", type=int, default=24)

    def handle(self, *args, clients, access_log_rows, access_log_months, **options):
        if settings.PRODUCTION:
            raise CommandError("Refusing to load a benchmark data set into a production database.")
        if clients:
            self.seed_clinic(clients=clients, **options)
        if access_log_rows:
            from demo.access_log_scale import seed_access_log

            seed_access_log(rows=access_log_rows, months=access_log_months, stdout=self.stdout)

    @transaction.atomic
    def seed_clinic(self, *, clients, appointments_per_client, seed, **options):
        rng = random.Random(seed)  # nosec B311: test data, not security
        now = timezone.now().replace(minute=0, second=0, microsecond=0)
        run = uuid.uuid4().hex[:6]
        password = make_password("scale-demo-2026")  # nosec B106: benchmark accounts

        clinics = Clinic.objects.bulk_create(
            Clinic(
                slug=f"scale-{run}-{i}",
                name=f"Scale {i}",
                province="QC" if i % 2 == 0 else "BC",
                time_zone="America/Toronto" if i % 2 == 0 else "America/Vancouver",
                street_address=f"{i} Main",
                city="Montréal" if i % 2 == 0 else "Vancouver",
                postal_code="H1H 1H1",
                phone="+15145550100",
                email=f"scale{i}-{run}@clinic.example",
                minimum_client_age=18 if i % 2 == 0 else 19,
            )
            for i in range(4)
        )
        BookingRules.objects.bulk_create(BookingRules(clinic=c) for c in clinics)
        Room.objects.bulk_create(
            Room(clinic=c, name=f"Room {r}", is_dosing_room=r < 4)
            for c in clinics
            for r in range(6)
        )

        staff_users = User.objects.bulk_create(
            User(
                email=f"staff{i}-{run}@clinic.example",
                first_name="Staff",
                last_name=str(i),
                password=password,
                is_staff=True,
            )
            for i in range(40)
        )
        roles = (
            [StaffRole.THERAPIST] * 5
            + [StaffRole.MEDICAL_PRACTITIONER] * 2
            + [StaffRole.COORDINATOR] * 2
            + [StaffRole.PRIVACY_OFFICER]
        )
        profiles = StaffProfile.objects.bulk_create(
            StaffProfile(user=u, role=roles[i % len(roles)], profession="")
            for i, u in enumerate(staff_users)
        )
        through = StaffProfile.clinics.through
        through.objects.bulk_create(
            through(staffprofile_id=p.pk, clinic_id=clinics[i % 4].pk)
            for i, p in enumerate(profiles)
        )
        # Each in their role's group, as staff_profile_create does (clinic/roles.py).
        role_groups = {g.name: g.pk for g in Group.objects.filter(name__in=StaffRole.values)}
        User.groups.through.objects.bulk_create(
            User.groups.through(user_id=p.user_id, group_id=role_groups[p.role])
            for p in profiles
            if p.role in role_groups
        )
        therapists = {c.pk: [] for c in clinics}
        for i, p in enumerate(profiles):
            if p.role == StaffRole.THERAPIST:
                therapists[clinics[i % 4].pk].append(p.user)
        AvailabilityWindow.objects.bulk_create(
            AvailabilityWindow(
                clinic_id=cid, staff=u, weekday=d, start_time=time(9), end_time=time(17)
            )
            for cid, people in therapists.items()
            for u in people
            for d in range(5)
        )

        users = User.objects.bulk_create(
            (
                User(
                    email=f"client{i}-{run}@example.com",
                    first_name="Client",
                    last_name=str(i),
                    password=password,
                )
                for i in range(clients)
            ),
            batch_size=BATCH,
        )
        client_profiles = ClientProfile.objects.bulk_create(
            (
                ClientProfile(user=u, clinic=clinics[i % 4], phone="+15145550123")
                for i, u in enumerate(users)
            ),
            batch_size=BATCH,
        )
        courses = Course.objects.bulk_create(
            (
                Course(
                    client=cp,
                    clinic_id=cp.clinic_id,
                    stage=STAGES[i % len(STAGES)],
                    stage_before_hold=Stage.PREPARE
                    if STAGES[i % len(STAGES)] == Stage.ON_HOLD
                    else "",
                    opened_at=now - timedelta(days=rng.randint(1, 700)),
                )
                for i, cp in enumerate(client_profiles)
            ),
            batch_size=BATCH,
        )
        JourneyEvent.objects.bulk_create(
            (
                JourneyEvent(course=c, from_stage="", to_stage=Stage.CONNECT, at=c.opened_at)
                for c in courses
            ),
            batch_size=BATCH,
        )
        JourneyEvent.objects.bulk_create(
            (
                JourneyEvent(
                    course=c,
                    from_stage=Stage.CONNECT,
                    to_stage=c.stage,
                    at=c.opened_at + timedelta(days=10),
                )
                for c in courses
                if c.stage != Stage.CONNECT
            ),
            batch_size=BATCH,
        )

        # Appointments: past ones held, a few weeks ahead booked; one reservation for the
        # client and one for a therapist each, never overlapping (one hour per slot index).
        appointments, reservations = [], []
        kinds = [
            AppointmentKind.PREPARATORY_SESSION,
            AppointmentKind.DOSING_SESSION,
            AppointmentKind.INTEGRATION_SESSION,
        ]
        slot = 0
        for cp in client_profiles:
            people = therapists[cp.clinic_id]
            for j in range(appointments_per_client):
                slot += 1
                start = now - timedelta(days=300) + timedelta(hours=slot // len(people) * 1)
                appointments.append(
                    Appointment(
                        clinic_id=cp.clinic_id,
                        kind=AppointmentKind.INTAKE_CALL if j == 0 else kinds[j % 3],
                        start=start,
                        end=start + timedelta(minutes=50),
                        client=cp,
                        status=Appointment.Status.HELD
                        if start < now
                        else Appointment.Status.BOOKED,
                    )
                )
        Appointment.objects.bulk_create(appointments, batch_size=BATCH)
        for slot, a in enumerate(appointments, start=1):
            people = therapists[a.clinic_id]
            reservations.append(
                Reservation(
                    appointment=a, client_id=a.client_id, start=a.start, end=a.end, is_live=False
                )
            )
            reservations.append(
                Reservation(
                    appointment=a,
                    staff=people[slot % len(people)],
                    start=a.start,
                    end=a.end,
                    is_live=False,
                )
            )
        Reservation.objects.bulk_create(reservations, batch_size=BATCH)
        intake = [a for a in appointments if a.kind == AppointmentKind.INTAKE_CALL]
        course_of = {c.client_id: c for c in courses}
        intake_calls = IntakeCall.objects.bulk_create(
            [
                IntakeCall(
                    appointment=a,
                    course=course_of[a.client_id],
                    concern="depression",
                    language="fr",
                    phone="+15145550123",
                    consent_to_contact=True,
                    submission=uuid.uuid4(),
                )
                for a in intake
            ],
            batch_size=BATCH,
        )
        # A held call has its outcome record, as the staff page records it.
        IntakeCallOutcome.objects.bulk_create(
            (
                IntakeCallOutcome(call=call, outcome="held", at=call.appointment.end)
                for call in intake_calls
                if call.appointment.status == Appointment.Status.HELD
            ),
            batch_size=BATCH,
        )
        screenings = Screening.objects.bulk_create(
            (
                Screening(
                    course=c,
                    clinic_id=c.clinic_id,
                    screener_version=1,
                    rules_version="2026.2",
                    status="submitted",
                    answers=EXAMPLE_ANSWERS,
                    outcome=rng.choice(["likely_eligible", "needs_review", "not_eligible"]),
                    reasons=[],
                    phq9_score=rng.randint(0, 27),
                    gad7_score=rng.randint(0, 21),
                    crisis_flag=rng.random() < 0.02,
                    submitted_at=c.opened_at + timedelta(days=3),
                )
                for c in courses
            ),
            batch_size=BATCH,
        )
        # Each sent screening as it was sent (the review reads this).
        ScreeningSubmission.objects.bulk_create(
            (
                ScreeningSubmission(
                    screening=s,
                    number=1,
                    answers=s.answers,
                    rules_version=s.rules_version,
                    outcome=s.outcome,
                    reasons=s.reasons,
                    phq9_score=s.phq9_score,
                    gad7_score=s.gad7_score,
                    crisis_flag=s.crisis_flag,
                    submitted_at=s.submitted_at,
                )
                for s in screenings
            ),
            batch_size=BATCH,
        )
        QuestionnaireResponse.objects.bulk_create(
            (
                QuestionnaireResponse(
                    client_id=s.course.client_id,
                    screening=s,
                    questionnaire=q,
                    answers=[1] * n,
                    score=n,
                    band="mild",
                    at=s.submitted_at,
                )
                for s in screenings
                for q, n in (("phq9", 9), ("gad7", 7))
            ),
            batch_size=BATCH,
        )
        OutboxMessage.objects.bulk_create(
            (
                OutboxMessage(
                    kind="accounts.welcome",
                    key=f"scale-{run}-{u.pk}",
                    payload={"user_id": u.pk},
                    due_at=now + timedelta(days=3650),
                    status="pending",
                )
                for u in users
            ),
            batch_size=BATCH,
        )
        # The intake calls' reminders, a day and two hours before: those past
        # were sent, those ahead wait in the outbox (the sweep's index skips them).
        calls = IntakeCall.objects.filter(appointment__in=intake).select_related("appointment")
        OutboxMessage.objects.bulk_create(
            (
                OutboxMessage(
                    kind=kind,
                    key=f"{call.appointment.uuid}:v{call.appointment.version}",
                    payload={"call": str(call.uuid), "version": call.appointment.version},
                    due_at=call.appointment.start - before,
                    status="sent" if call.appointment.start - before < now else "pending",
                    done_at=call.appointment.start - before
                    if call.appointment.start - before < now
                    else None,
                )
                for call in calls.iterator(chunk_size=BATCH)
                for kind, before in (
                    ("intake.reminder_24h", timedelta(hours=24)),
                    ("intake.reminder_2h", timedelta(hours=2)),
                )
            ),
            batch_size=BATCH,
        )
        if connection.vendor == "postgresql":
            # The steps below book and look up row by row through the
            # services (integration sessions ask the calendar what is busy):
            # without statistics on the tables just filled, the planner
            # scans millions of reservations for each (at 100,000 clients,
            # half a second a lookup, hours in all).
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        # Measures: follow-ups after the series of everyone past dosing, most answered.
        from demo.measures_seed import scale_measures

        answered = scale_measures(
            courses=[c for c in courses if c.stage in (Stage.INTEGRATE, Stage.RECONNECT)],
            now=now,
            rng=rng,
        )
        # The room board's weeks: every clinic's rooms full on the weekdays
        # from two weeks ago to four weeks ahead.
        board_sessions = 0
        today = timezone.localdate()
        days = [today + timedelta(days=d) for d in range(-14, 29)]
        for clinic in clinics:
            people = StaffProfile.objects.filter(clinics=clinic).select_related("user")
            by_role: dict[str, list[User]] = {}
            for profile in people:
                by_role.setdefault(profile.role, []).append(profile.user)
            clinic_courses = [c for c in courses if c.clinic_id == clinic.pk]
            board_sessions += fill_room_board(
                clinic=clinic,
                days=[d for d in days if d.weekday() < 5],
                rooms=list(Room.objects.filter(clinic=clinic).order_by("name")),
                therapists=by_role.get(StaffRole.THERAPIST, []),
                practitioners=by_role.get(StaffRole.MEDICAL_PRACTITIONER, []),
                booker=(by_role.get(StaffRole.COORDINATOR) or [staff_users[0]])[0],
                # Whoever is in dosing or has been; whoever is preparing or may
                # be assessed again (the scale data's stages fall unevenly
                # over its clinics: some have no one in prepare, or in dosing).
                dosing=[c for c in clinic_courses if c.stage in PAST_PREPARE],
                preparing=[c for c in clinic_courses if c.stage in (Stage.PREPARE, Stage.DOSING)],
                now=now,
            )
        # Integration sessions: the day after the last held dosing session of
        # everyone in integrate or reconnect, where the therapist is free.
        from demo.integration_sessions import seed_integration_sessions

        integration_sessions = seed_integration_sessions()
        # Integration groups: each clinic's evening groups, full, with a waitlist.
        from demo.groups import fill_groups

        groups = 0
        for clinic in clinics:
            people = StaffProfile.objects.filter(clinics=clinic).select_related("user")
            roles: dict[str, list[User]] = {}
            for profile in people:
                roles.setdefault(profile.role, []).append(profile.user)
            groups += fill_groups(
                clinic=clinic,
                rooms=list(Room.objects.filter(clinic=clinic).order_by("name")),
                therapists=roles.get(StaffRole.THERAPIST, []),
                coordinator=(roles.get(StaffRole.COORDINATOR) or [staff_users[0]])[0],
                clients=[cp for cp in client_profiles if cp.clinic_id == clinic.pk],
                today=today,
                now=now,
                batch=BATCH,
            )
        # Billing: an issued invoice per client with held appointments.
        invoices = seed_invoices(clinics=clinics, appointments=appointments, run=run, now=now)
        if connection.vendor == "postgresql":
            # Fresh statistics, as autovacuum would give a real database after
            # a while: without them the planner guesses a few rows per table
            # and picks sequential scans and hash joins for the list pages
            # (the staff course list took 7 ms instead of 0.2 ms).
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        self.stdout.write(
            self.style.SUCCESS(
                f"Scale data {run}: {len(clinics)} clinics, {len(staff_users)} staff, {clients} clients, "
                f"{len(appointments)} appointments, {len(reservations)} reservations, {len(screenings)} screenings, "
                f"{board_sessions} sessions on the room boards, {groups} integration groups, "
                f"{integration_sessions} integration sessions, {answered} follow-ups answered, "
                f"{invoices} invoices."
            )
        )


PAST_PREPARE = (Stage.DOSING, Stage.INTEGRATE, Stage.RECONNECT)
# A dosing room's day: sessions of 3 hours and 30 minutes of cleaning, from 7:00.
DOSING_STARTS = [time(7), time(10, 30), time(14), time(17, 30)]
# Any other room's day: an assessment or a preparatory session each hour from 8:00.
OFFICE_STARTS = [time(h) for h in range(8, 15)]


def fill_room_board(
    *,
    clinic: Clinic,
    days: list[date],
    rooms: list[Room],
    therapists: list[User],
    practitioners: list[User],
    booker: User,
    dosing: list[Course],
    preparing: list[Course],
    now: datetime,
) -> int:
    """Fill the clinic's rooms on each local day, with bulk inserts: four
    dosing sessions in each dosing room (a series per client in dosing),
    seven assessments or preparatory sessions in each other room (30 a day
    in four dosing rooms and two others). The rooms' reservations are live
    and never overlap; people and clients are spread over the sessions but
    their reservations are not live (the scale data's other appointments
    hold them at random times)."""
    if not (therapists and practitioners and dosing and preparing):
        return 0
    zone = clinic.zone
    appointments, details = [], []
    n = 0
    for day in days:
        for room in rooms:
            starts = DOSING_STARTS if room.is_dosing_room else OFFICE_STARTS
            for start_time in starts:
                n += 1
                start = datetime.combine(day, start_time, tzinfo=zone)
                if room.is_dosing_room:
                    kind, length, course = (
                        AppointmentKind.DOSING_SESSION,
                        timedelta(hours=3),
                        dosing[n % len(dosing)],
                    )
                    staff = [therapists[n % len(therapists)], practitioners[n % len(practitioners)]]
                else:
                    kind = (
                        AppointmentKind.MEDICAL_ASSESSMENT
                        if n % 2
                        else AppointmentKind.PREPARATORY_SESSION
                    )
                    length, course = timedelta(hours=1), preparing[n % len(preparing)]
                    staff = [
                        practitioners[n % len(practitioners)]
                        if n % 2
                        else therapists[n % len(therapists)]
                    ]
                appointments.append(
                    Appointment(
                        clinic=clinic,
                        kind=kind,
                        start=start,
                        end=start + length,
                        client_id=course.client_id,
                        room=room,
                        status=Appointment.Status.HELD
                        if start < now
                        else Appointment.Status.BOOKED,
                    )
                )
                details.append((course, staff))
    Appointment.objects.bulk_create(appointments, batch_size=BATCH)
    cleaning = timedelta(minutes=30)
    Reservation.objects.bulk_create(
        (
            reservation
            for a, (_course, staff) in zip(appointments, details, strict=True)
            for reservation in (
                Reservation(
                    appointment=a,
                    room=a.room,
                    start=a.start,
                    end=a.end
                    + (cleaning if a.kind == AppointmentKind.DOSING_SESSION else timedelta(0)),
                ),
                Reservation(
                    appointment=a, client_id=a.client_id, start=a.start, end=a.end, is_live=False
                ),
                *(
                    Reservation(
                        appointment=a, staff=person, start=a.start, end=a.end, is_live=False
                    )
                    for person in staff
                ),
            )
        ),
        batch_size=BATCH,
    )
    in_dosing = {
        course.pk: course
        for a, (course, _staff) in zip(appointments, details, strict=True)
        if a.kind == AppointmentKind.DOSING_SESSION
    }
    planned = set(
        DosingSeries.objects.filter(course_id__in=in_dosing).values_list("course_id", flat=True)
    )
    DosingSeries.objects.bulk_create(
        DosingSeries(course=course, planned_sessions=6, planned_by=booker)
        for pk, course in in_dosing.items()
        if pk not in planned
    )
    series = {s.course_id: s for s in DosingSeries.objects.filter(course_id__in=in_dosing)}
    DosingSession.objects.bulk_create(
        (
            DosingSession(appointment=a, series=series[course.pk])
            for a, (course, _staff) in zip(appointments, details, strict=True)
            if a.kind == AppointmentKind.DOSING_SESSION
        ),
        batch_size=BATCH,
    )
    PreparationAppointment.objects.bulk_create(
        (
            PreparationAppointment(appointment=a, course=course, booked_by=booker)
            for a, (course, _staff) in zip(appointments, details, strict=True)
            if a.kind != AppointmentKind.DOSING_SESSION
        ),
        batch_size=BATCH,
    )
    return len(appointments)


def seed_invoices(*, clinics, appointments, run: str, now) -> int:
    """One issued invoice per client for up to six of their held appointments
    (every catalogue part of each, exempt or taxed as billing would), two in
    three paid in full: for the staff invoice list's benchmark."""
    from decimal import Decimal

    from billing import taxes
    from billing.catalogue import catalogue_install, tax_rates_install
    from billing.models import (
        BilledAppointment,
        Counter,
        Invoice,
        InvoiceLine,
        Payment,
        StatementJob,
        TaxRate,
    )
    from billing.services import catalogue_in_force, items_for_kind

    tax_rates_install()
    rates = list(TaxRate.objects.all())
    letters = "".join(chr(65 + int(c, 16)) for c in run[:4])
    year = now.year
    by_client: dict[int, list[Appointment]] = {}
    for a in appointments:
        if a.status == Appointment.Status.HELD and a.kind != AppointmentKind.INTAKE_CALL:
            by_client.setdefault(a.client_id, []).append(a)
    made = 0
    for i, clinic in enumerate(clinics):
        prefix = f"S{letters}{chr(65 + i)}"
        catalogue_install(clinic=clinic, since=date(2024, 1, 1), prefix=prefix)
        items = catalogue_in_force(clinic=clinic, on=now.date())
        kinds = {kind: items_for_kind(items, kind) for kind in AppointmentKind.values}
        clients = [c for c, appts in by_client.items() if appts[0].clinic_id == clinic.pk]
        invoices = [
            Invoice(
                clinic=clinic,
                client_id=client_id,
                status=Invoice.Status.ISSUED,
                number=f"{prefix}-{year}-{n:06d}",
                issued_on=now.date(),
                due_on=now.date() + timedelta(days=30),
                issued_at=now,
                created_at=now - timedelta(minutes=len(clients) - n),
            )
            for n, client_id in enumerate(clients, start=1)
        ]
        Invoice.objects.bulk_create(invoices, batch_size=BATCH)
        Counter.objects.create(clinic=clinic, series="invoice", year=year, last=len(invoices))
        lines, billed, payments = [], [], []
        recorder = clinic.staff.values_list("user_id", flat=True).first()
        for n, invoice in enumerate(invoices):
            subtotal = tax_total = Decimal("0.00")
            for a in by_client[invoice.client_id][:6]:
                billed.append(BilledAppointment(appointment=a, invoice=invoice))
                day = a.start.date()
                for item in kinds[a.kind]:
                    computed = taxes.line_taxes(
                        amount=item.price,
                        treatment=item.tax_treatment,
                        province=clinic.province,
                        service_date=day,
                        provider_registration="OPQ-0000",
                        rates=rates,
                    )
                    lines.append(
                        InvoiceLine(
                            invoice=invoice,
                            position=len(lines),
                            appointment=a,
                            item=item,
                            code=item.code,
                            description_en=item.name_en,
                            description_fr=item.name_fr,
                            component=item.component,
                            tax_treatment=item.tax_treatment,
                            service_date=day,
                            duration_minutes=50,
                            unit_price=item.price,
                            amount=item.price,
                            taxes={k: str(v) for k, v in computed.taxes.items()},
                            tax_amount=computed.total,
                            exempt=computed.exempt,
                        )
                    )
                    subtotal += item.price
                    tax_total += computed.total
            invoice.subtotal, invoice.tax_total = subtotal, tax_total
            invoice.total = subtotal + tax_total
            if n % 3 and invoice.total > 0 and recorder is not None:
                invoice.status = Invoice.Status.PAID
                payments.append(
                    Payment(
                        invoice=invoice,
                        method="card",
                        amount=invoice.total,
                        received_on=now.date(),
                        receipt_number=f"{prefix}-R-{year}-{len(payments) + 1:06d}",
                        submission=uuid.uuid4(),
                        recorded_by_id=recorder,
                    )
                )
        Invoice.objects.bulk_update(
            invoices, ["subtotal", "tax_total", "total", "status"], batch_size=BATCH
        )
        InvoiceLine.objects.bulk_create(lines, batch_size=BATCH)
        BilledAppointment.objects.bulk_create(billed, batch_size=BATCH)
        Payment.objects.bulk_create(payments, batch_size=BATCH)
        if payments:
            Counter.objects.create(clinic=clinic, series="receipt", year=year, last=len(payments))
            # The year's statements asked for (the worker builds them): the
            # statement requests page has a job to list.
            if not StatementJob.objects.filter(clinic=clinic, client=None, year=year).exists():
                StatementJob.objects.create(clinic=clinic, year=year, requested_by_id=recorder)
        made += len(invoices)
    return made
