"""Benchmarks: figures printed, never asserted (see README, "Benchmarks").

    .venv/bin/python -m bench.run            # against the local PostgreSQL
    BENCH_DATABASE_URL=postgres://... .venv/bin/python -m bench.run

It works in a scratch database (`clinic_bench`, created and migrated if
missing), builds its data inside a transaction and rolls it back.
"""

import os
import statistics
import sys
import time
import uuid
from datetime import datetime, timedelta
from datetime import time as clock_time
from zoneinfo import ZoneInfo

BENCH_DB = os.environ.get("BENCH_DATABASE_URL", "postgres://root@127.0.0.1:5432/clinic_bench")
os.environ["DATABASE_URL"] = BENCH_DB
# Each data size has its own database, seeded once and kept (issue 15): the
# default size in BENCH_DATABASE_URL's, another in the same name followed by
# its size (clinic_bench_100000), so going back and forth between sizes
# never seeds again.
DEFAULT_CLIENTS = 10000
# One secret for this process and the gunicorn it starts: the sessions made
# here must be valid there.
BENCH_SECRET = "bench-only-secret-" + "x" * 40
BENCH_REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
# This process counts each page's queries: with the server's settings
# (sessions in Redis, cached_db), or it counts a session read the server
# does not make.
os.environ.setdefault("REDIS_URL", BENCH_REDIS)
# Clients who press "book" on the same slot at once, per slot, and how many slots.
BOOKING_CONTENTION_CLIENTS = 16 * 10
os.environ["SECRET_KEY"] = BENCH_SECRET
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ["BENCH_FLOOR"] = "1"  # the floor pages, here too (their query counts)
# What this process times itself, it times as production runs it: cached
# templates, no debug bookkeeping.
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1")
os.environ.setdefault("LOG_LEVEL", "WARNING")


def bench_database_for(clients: int) -> str:
    base = os.environ.get("BENCH_DATABASE_URL", "postgres://root@127.0.0.1:5432/clinic_bench")
    return base if clients == DEFAULT_CLIENTS else f"{base}_{clients}"


def ensure_database() -> None:
    import psycopg

    name = BENCH_DB.rsplit("/", 1)[-1]
    admin = BENCH_DB.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def bench_clinic(slug: str, *, clinicians: int, weekdays, hours: tuple[int, int], **rules):
    """A Montreal clinic taking intake calls with `clinicians` therapists, each
    free on `weekdays` between `hours`, under these booking rules."""
    from clinic.accounts import staff_profile_create
    from clinic.models import Clinic, StaffRole, User
    from intake.models import AvailabilityWindow, BookingRules

    clinic = Clinic.objects.create(
        slug=slug,
        name=f"Bench {slug}",
        province="QC",
        time_zone="America/Toronto",
        street_address="1",
        city="Montréal",
        postal_code="H1H 1H1",
        phone="5145550100",
        email="b@example.com",
        minimum_client_age=18,
    )
    BookingRules.objects.create(clinic=clinic, **rules)
    people = []
    for i in range(clinicians):
        user = User.objects.create_user(f"bench-clinician{i}-{slug}@example.com")
        staff_profile_create(user=user, role=StaffRole.THERAPIST, clinics=[clinic])
        people.append(user)
        AvailabilityWindow.objects.bulk_create(
            AvailabilityWindow(
                clinic=clinic,
                staff=user,
                weekday=d,
                start_time=clock_time(hours[0]),
                end_time=clock_time(hours[1]),
            )
            for d in weekdays
        )
    return clinic, people


def slot_floor(*, clinic, now) -> None:
    """The fair floor of slot generation (issue 15): the same availability,
    bookings and closures read with one query each, as intake_slots reads
    them, and nothing done with them. A machine's speed moves both alike."""
    from clinic.models import Reservation
    from intake.models import AvailabilityException, AvailabilityWindow
    from intake.selectors import _epochs

    rules_horizon = now + timedelta(days=43)
    windows = list(
        AvailabilityWindow.objects.filter(clinic=clinic, staff__is_active=True).values_list(
            "staff_id", "weekday", "start_time", "end_time", "valid_from", "valid_until"
        )
    )
    staff_ids = {w[0] for w in windows}
    # Read as intake_slots reads them (times as epoch seconds from the database).
    list(
        _epochs(
            Reservation.objects.filter(
                is_live=True, staff_id__in=staff_ids, start__lt=rules_horizon, end__gt=now
            ),
            "staff_id",
        )
    )
    list(
        _epochs(
            AvailabilityException.objects.filter(
                clinic=clinic, start__lt=rules_horizon, end__gt=now
            ),
            "staff_id",
        )
    )


def bench_slot_generation(rounds: int = 50) -> dict:
    """6 weeks x 10 clinicians with 1,000 existing bookings (target: 20 ms)."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from clinic.models import Appointment, Reservation
    from intake.selectors import intake_slots

    zone = ZoneInfo("America/Toronto")
    now = datetime(2026, 6, 1, 6, 0, tzinfo=zone)
    result = {}
    with transaction.atomic():
        clinic, clinicians = bench_clinic(
            "bench",
            clinicians=10,
            weekdays=range(5),
            hours=(9, 17),
            minimum_notice_hours=0,
            horizon_days=42,
        )
        appointments = []
        for i in range(1000):
            k = i // 10
            start = now + timedelta(days=k % 40, hours=3 + k // 40)
            appointments.append(
                Appointment(
                    clinic=clinic,
                    kind="intake_call",
                    start=start,
                    end=start + timedelta(minutes=30),
                )
            )
        Appointment.objects.bulk_create(appointments)
        Reservation.objects.bulk_create(
            Reservation(
                appointment=a,
                staff=clinicians[i % 10],
                start=a.start,
                end=a.end + timedelta(minutes=10),
            )
            for i, a in enumerate(appointments)
        )
        intake_slots(clinic=clinic, now=now)  # warm up
        timings = []
        for _ in range(rounds):
            started = time.perf_counter()
            slots = intake_slots(clinic=clinic, now=now)
            timings.append((time.perf_counter() - started) * 1000)
        with CaptureQueriesContext(connection) as queries:
            intake_slots(clinic=clinic, now=now)
        floor_timings = []
        for _ in range(rounds):
            started = time.perf_counter()
            slot_floor(clinic=clinic, now=now)
            floor_timings.append((time.perf_counter() - started) * 1000)
        result = {
            "median_ms": statistics.median(timings),
            "p95_ms": sorted(timings)[int(0.95 * len(timings)) - 1],
            "floor_ms": statistics.median(floor_timings),
            "queries": len(queries),
            "slots": sum(len(v) for v in slots.values()),
        }
        transaction.set_rollback(True)
    return result


PAGES = [
    # (label, path or callable(ids) -> path, who)
    ("home", "/", None),
    ("slot listing", lambda ids: f"/book/{ids['clinic_slug']}/", None),
    ("client portal", "/portal/", "client"),
    ("screener step", "/portal/screening/about/", "screening_client"),
    ("staff course list", "/staff/", "therapist"),
    ("staff intake day", "/staff/intake/", "therapist"),
    ("intake call manage link", lambda ids: ids["manage_path"], None),
    (
        "room board, 6 rooms, 30 sessions",
        lambda ids: f"/staff/board/?clinic={ids['board_clinic']}&day={ids['board_day']}",
        "coordinator",
    ),
    ("screening review list (admin)", "/admin/eligibility/screening/", "therapist"),
    (
        "screening review (admin)",
        lambda ids: f"/admin/eligibility/screening/{ids['review_screening']}/change/",
        "therapist",
    ),
    # Prepare and dosing: the client's preparation page, the clinician's
    # record of the day and of one dosing session.
    ("client preparation page", "/portal/preparation/", "preparing_client"),
    ("staff dosing records of the day", "/staff/dosing/records/", "therapist"),
    (
        "staff dosing session record",
        lambda ids: f"/staff/dosing/records/sessions/{ids['dosing_session']}/",
        "therapist",
    ),
    # Integrate: the client's integration sessions, the staff's for a course.
    ("client integration sessions", "/portal/integration/sessions/", "integrating_client"),
    (
        "staff integration sessions of a course",
        lambda ids: f"/staff/integration/courses/{ids['integration_course']}/sessions/",
        "therapist",
    ),
    ("staff group list, 4 groups", "/staff/groups/", "coordinator"),
    (
        "clinician's chart page (baseline and follow-ups)",
        lambda ids: f"/staff/measures/clients/{ids['chart_client']}/",
        "therapist",
    ),
    # Billing: the client's invoices, the staff's lists.
    ("client invoices", "/portal/billing/", "billed_client"),
    ("staff invoice list, 25 a page", "/staff/billing/", "coordinator"),
    ("staff year-end statement requests, 20 a page", "/staff/billing/statements/", "coordinator"),
]
# The target of each row (issue 15), a ratio of its p50 to a floor measured
# in the same run: a page someone signed in to sees against the signed-in
# floor (2x), a public page against the one-query floor (2x), the signed-in
# floor against the one-query floor (1.3x). Exceptions by label.
PAGE_TARGET = 2.0
SIGNED_IN_FLOOR_TARGET = 1.3
TARGETS = {"screening review list (admin)": 3.0, "booking POST": 3.0}
SIGNED_IN_FLOOR, ONE_QUERY_FLOOR = "floor: same, signed-in staff", "floor: template + 1 query"


def row_target(label: str, signed_in: bool) -> tuple[str | None, float | None]:
    """(the floor a row is measured against, its target ratio); no target
    for the floors the others are measured against."""
    if label == SIGNED_IN_FLOOR:
        return ONE_QUERY_FLOOR, SIGNED_IN_FLOOR_TARGET
    if label.startswith("floor"):
        return None, None
    return (SIGNED_IN_FLOOR if signed_in else ONE_QUERY_FLOOR), TARGETS.get(label, PAGE_TARGET)


NOT_BUILT: list[str] = []
# The room board's day in the bench: a clinic's six rooms (four for dosing)
# with thirty sessions, as seed_scale fills them (demo's fill_room_board).
BOARD_ROOMS, BOARD_SESSIONS = 6, 30


def ensure_scale_data(clients: int) -> dict:
    from django.core.management import call_command

    from clinic.models import ClientProfile, Clinic, StaffProfile, StaffRole

    if ClientProfile.objects.filter(user__email__startswith="client").count() < clients * 0.9:
        print(f"Seeding {clients} clients (seed_scale)...", flush=True)
        call_command("seed_scale", clients=clients, stdout=open(os.devnull, "w"))  # noqa: SIM115
    from django.db import connection

    with connection.cursor() as cursor:
        # The planner's statistics and tables as a live database has them.
        # VACUUM as well: with autovacuum off (as on this machine), the
        # seed's dead rows stay at the ends of the indexes, and the planner's
        # probe of a join key's extremes reads through them at every query
        # (the room board's reservation query: 46 ms of planning, 2 ms of
        # execution, at 100,000 clients). Quick once the tables are clean.
        cursor.execute("VACUUM (ANALYZE)")
    clinic = Clinic.objects.filter(slug__startswith="scale-").order_by("pk").first()
    therapist = (
        StaffProfile.objects.filter(role=StaffRole.THERAPIST, clinics=clinic)
        .select_related("user")
        .first()
    )
    client = (
        ClientProfile.objects.filter(clinic=clinic, courses__stage="connect")
        .select_related("user")
        .first()
    )
    # Someone who has just signed up, with the screener ahead of them.
    screening_client = (
        ClientProfile.objects.filter(user__email=f"bench-screener@{clinic.slug}.example")
        .select_related("user")
        .first()
    )
    if screening_client is None:
        from clinic.accounts import client_register
        from clinic.models import User

        user = User.objects.create_user(f"bench-screener@{clinic.slug}.example")
        screening_client = client_register(user=user, clinic=clinic)
    coordinator, board_day = ensure_board_day(clinic)
    from eligibility.models import Screening

    # The screening a clinician opens first from the queue.
    review_screening = (
        Screening.objects.filter(clinic=clinic, status=Screening.Status.SUBMITTED)
        .order_by("-crisis_flag", "submitted_at")
        .values_list("pk", flat=True)
        .first()
    )
    ensure_groups(clinic, coordinator)
    chart_client = ensure_chart_client(clinic)
    from intake.models import IntakeCall
    from intake.services import manage_token

    # The e-mailed link of the clinic's latest intake call: its week of slots
    # with the current time marked among them.
    call = (
        IntakeCall.objects.filter(appointment__clinic=clinic)
        .select_related("appointment")
        .order_by("-appointment__start")
        .first()
    )
    # Billing is the coordinators' work (billing's permissions, their group).
    from billing.catalogue import coordinators_may_bill

    coordinator.groups.add(coordinators_may_bill())
    return {
        **stage_page_ids(clinic),
        "review_screening": review_screening,
        "chart_client": chart_client,
        "manage_path": f"/book/manage/{manage_token(call)}/" if call else "/book/",
        "clinic_slug": clinic.slug,
        "therapist": therapist.user,
        "client": client.user,
        "screening_client": screening_client.user,
        "coordinator": coordinator,
        "board_clinic": clinic.slug,
        "board_day": board_day.isoformat(),
    }


def stage_page_ids(clinic) -> dict:
    """Who and what the pages of the later stages show, from the scale data:
    a client preparing, a client in integration with a session held, a
    client with an invoice (any of the scale clinics: their stages fall
    unevenly, the first has nobody preparing); for the clinic's staff, its
    latest dosing session held and a course with an integration session."""
    from billing.models import Invoice
    from clinic.models import ClientProfile, Stage
    from integration.individual.models import IndividualSession
    from sessions.models import DosingSession

    people = (
        ClientProfile.objects.filter(clinic__slug__startswith="scale-")
        .select_related("user")
        .order_by("pk")
    )
    integration = IndividualSession.objects.select_related("course__client__user").order_by("pk")
    session = (
        DosingSession.objects.filter(
            appointment__clinic=clinic,
            appointment__status="held",
            appointment__client__isnull=False,
        )
        .order_by("-appointment__start")
        .values_list("uuid", flat=True)
        .first()
    )
    billed = Invoice.objects.filter(clinic__slug__startswith="scale-").order_by("pk")
    return {
        "preparing_client": people.filter(courses__stage=Stage.PREPARE).first().user,
        "integrating_client": integration.filter(course__stage=Stage.INTEGRATE)
        .first()
        .course.client.user,
        "integration_course": integration.filter(course__clinic=clinic).first().course.uuid,
        "billed_client": people.get(pk=billed.values_list("client", flat=True).first()).user,
        "dosing_session": session,
    }


STAFF = ("therapist", "coordinator")


def page_cookies(ids: dict) -> dict:
    """A signed-in session for each person a page row names."""
    return {
        who: session_cookie(ids[who], staff=who in STAFF)
        for who in sorted({who for _label, _path, who in PAGES if who})
    }


def ensure_chart_client(clinic) -> str:
    """A client of the clinic with answered follow-ups (seed_scale writes
    them; a bench database seeded before it did gets one here)."""
    import random

    from django.utils import timezone

    from clinic.models import Course, Stage
    from demo.measures_seed import scale_measures
    from integration.measures.models import MeasureInvitation

    answered = MeasureInvitation.objects.filter(course__clinic=clinic, answered_at__isnull=False)
    found = answered.values_list("client__uuid", flat=True).first()
    if found is None:
        course = (
            Course.objects.filter(clinic=clinic, stage__in=[Stage.INTEGRATE, Stage.RECONNECT])
            .exclude(pk__in=MeasureInvitation.objects.values("course_id"))
            .order_by("pk")
            .first()
        )
        scale_measures(courses=[course], now=timezone.now(), rng=random.Random(1))  # noqa: S311  # nosec B311
        found = answered.values_list("client__uuid", flat=True).first()
    return str(found)


def ensure_board_day(clinic):
    """The next weekday on the clinic's room board, six rooms and thirty
    sessions (seed_scale fills them; a bench database seeded before it did
    gets that day filled here)."""
    from datetime import date as date_type

    from django.utils import timezone

    from clinic.models import Appointment, Course, Room, StaffProfile, StaffRole, Stage
    from demo.management.commands.seed_scale import fill_room_board

    day: date_type = timezone.localdate(timezone=clinic.zone) + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    for r in range(Room.objects.filter(clinic=clinic).count(), BOARD_ROOMS):
        Room.objects.create(clinic=clinic, name=f"Room {r}", is_dosing_room=r < 4)
    people = StaffProfile.objects.filter(clinics=clinic).select_related("user")
    by_role: dict[str, list] = {}
    for profile in people:
        by_role.setdefault(profile.role, []).append(profile.user)
    coordinator = by_role[StaffRole.COORDINATOR][0]
    start = datetime.combine(day, clock_time.min, tzinfo=clinic.zone)
    shown = Appointment.objects.filter(
        clinic=clinic, room__isnull=False, start__gte=start, start__lt=start + timedelta(days=1)
    )
    if shown.count() < BOARD_SESSIONS:
        fill_room_board(
            clinic=clinic,
            days=[day],
            rooms=list(Room.objects.filter(clinic=clinic).order_by("name")[:BOARD_ROOMS]),
            therapists=by_role[StaffRole.THERAPIST],
            practitioners=by_role[StaffRole.MEDICAL_PRACTITIONER],
            booker=coordinator,
            dosing=list(Course.objects.filter(clinic=clinic, stage=Stage.DOSING)[:200]),
            preparing=list(Course.objects.filter(clinic=clinic, stage=Stage.PREPARE)[:200]),
            now=timezone.now(),
        )
    return coordinator, day


def session_cookie(user, staff: bool) -> str:
    """A signed-in session, as after a real sign-in (and two-factor for staff)."""
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    EmailAddress.objects.get_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    if staff and not Authenticator.objects.filter(user=user, type="totp").exists():
        TOTP.activate(user, generate_totp_secret())
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "clinic.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    if staff:
        store["clinic_mfa_activated"] = True
    store.create()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


def booking_queries(pair) -> int:
    """Queries of one booking POST, run in this process (a booking of its own)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    _method, path, body, headers = booking_request(pair, "10.255.0.1")
    browser = Client(HTTP_HOST="127.0.0.1", HTTP_COOKIE=headers["Cookie"])
    with CaptureQueriesContext(connection) as captured:
        response = browser.post(path, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 302, response.status_code  # nosec B101: bench sanity
    return len(captured)


def queries_per_request(path: str, cookie: str | None) -> int:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    browser = Client(HTTP_HOST="127.0.0.1", HTTP_COOKIE=cookie or "", HTTP_ACCEPT_LANGUAGE="fr")
    browser.get(path)
    with CaptureQueriesContext(connection) as captured:
        browser.get(path)
    return len(captured)


def load(
    port: int,
    request_for,
    clients: int = 8,
    seconds: float = 4.0,
    expect: int = 200,
) -> dict:
    """`clients` keep-alive connections send what `request_for()` gives
    (method, path, body, headers; None when it has no more) for `seconds`."""
    import http.client
    import threading

    latencies: list[float] = []
    errors = [0]
    unexpected: dict[int, tuple] = {}
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def run():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        while time.monotonic() < deadline:
            with lock:
                request = request_for()
            if request is None:
                break
            method, path, body, headers = request
            started = time.perf_counter()
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            body = response.read()
            mine.append((time.perf_counter() - started) * 1000)
            if response.status != expect:
                with lock:
                    errors[0] += 1
                    unexpected.setdefault(response.status, (path, body[-3000:]))
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=run) for _ in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    latencies.sort()
    if not latencies:
        raise SystemExit("No request was sent: nothing to measure (--bookings 0?).")
    return {
        "rps": len(latencies) / elapsed,
        "requests": len(latencies),
        "p50": latencies[len(latencies) // 2],
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "errors": errors[0],
        "unexpected": unexpected,
        "latencies": latencies,
    }


def page_request(path: str, cookie: str | None):
    headers = {"Host": "127.0.0.1", "Accept-Language": "fr", "X-Forwarded-Proto": "https"}
    if cookie:
        headers["Cookie"] = cookie
    return lambda: ("GET", path, None, headers)


# A CSRF secret of our own, sent as the cookie and as the form's token, as a
# browser would after loading the form.
CSRF_SECRET = "benchcsrfsecret0123456789abcdefg"  # noqa: S105 (bench only)


def booking_request(pair: tuple[str, str, str], forwarded_for: str):
    """A signed-in client's booking POST for one slot, from their own address."""
    from urllib.parse import urlencode

    cookie, path, _ = pair
    body = urlencode(
        {
            "csrfmiddlewaretoken": CSRF_SECRET,
            "phone": "514 555 0199",
            "language": "fr",
            "concern": "depression",
            "consent_to_contact": "on",
            "submission": str(uuid.uuid4()),
        }
    )
    headers = {
        "Host": "127.0.0.1",
        "Accept-Language": "fr",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-For": forwarded_for,
        "Origin": "https://127.0.0.1",
        "Referer": f"https://127.0.0.1{path}",
        "Cookie": f"{cookie}; csrftoken={CSRF_SECRET}",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    return ("POST", path, body, headers)


def booking_fixture(clients: int) -> dict:
    """A clinic with two clinicians free every half-hour, every day, for six
    weeks, and `clients` new clients, each signed in and due to book once:
    (session cookie, booking path, slot key) per client, one slot each."""
    from allauth.account.models import EmailAddress

    from clinic.accounts import client_register
    from clinic.models import User
    from intake.selectors import intake_slots

    run = uuid.uuid4().hex[:6]
    # No buffer between calls: back-to-back slots never block each other,
    # whichever order the requests arrive in.
    clinic, clinicians = bench_clinic(
        f"bench-booking-{run}",
        clinicians=2,
        weekdays=range(7),
        hours=(8, 20),
        minimum_notice_hours=1,
        horizon_days=42,
        buffer_minutes=0,
    )
    slots = [slot for day in intake_slots(clinic=clinic).values() for slot in day]
    pairs = []
    for i, slot in enumerate(slots[:clients]):
        user = User.objects.create_user(f"bench-booker{i}-{run}@example.com", first_name="Bench")
        client_register(user=user, clinic=clinic, phone="5145550199")
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        pairs.append(
            (
                session_cookie(user, staff=False),
                f"/book/{clinic.slug}/{slot.key}/",
                slot.key,
            )
        )
    # The contention rounds take the latest slots (still well ahead when they
    # run), the in-process query count one before them, the load the rest,
    # skipping the first two (they could fall inside the notice meanwhile).
    contention, in_process, rest = (
        pairs[-BOOKING_CONTENTION_CLIENTS:],
        pairs[-BOOKING_CONTENTION_CLIENTS - 1],
        pairs[2 : -BOOKING_CONTENTION_CLIENTS - 1],
    )
    return {
        "clinic": clinic,
        "load": rest,
        "in_process": in_process,
        "contention": contention,
        "clinicians": len(clinicians),
    }


def booking_cleanup(fixture: dict) -> None:
    """Remove the booking clinic, its people and their bookings."""
    from django.db.models import ProtectedError

    from clinic.models import (
        Appointment,
        ClientProfile,
        Clinic,
        Course,
        JourneyEvent,
        OutboxMessage,
        StaffProfile,
        User,
    )
    from intake.models import IntakeCall

    clinic = fixture["clinic"]
    run = clinic.slug.rsplit("-", 1)[-1]
    users = User.objects.filter(email__startswith="bench-", email__contains=f"-{run}@")
    try:
        # Health records are protected from cascading deletes: children first.
        appointments = Appointment.objects.filter(clinic=clinic)
        OutboxMessage.objects.filter(
            key__in=[f"{a.uuid}:v{a.version}" for a in appointments.only("uuid", "version")]
        ).delete()
        IntakeCall.objects.filter(appointment__clinic=clinic).delete()
        appointments.delete()
        JourneyEvent.objects.filter(course__clinic=clinic).delete()
        Course.objects.filter(clinic=clinic).delete()
        ClientProfile.objects.filter(clinic=clinic).delete()
        StaffProfile.objects.filter(user__in=users).delete()
        users.delete()
        Clinic.objects.filter(pk=clinic.pk).delete()
    except ProtectedError as exc:
        print(
            f"(the booking clinic {clinic.slug} stays in the bench database: {type(exc).__name__})"
        )


def double_bookings(clinic) -> int:
    """Pairs of live reservations that hold one clinician or client at overlapping times."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FROM clinic_reservation a
            JOIN clinic_reservation b ON a.id < b.id AND a.is_live AND b.is_live
              AND a.start < b."end" AND b.start < a."end"
              AND (a.staff_id = b.staff_id OR a.client_id = b.client_id)
            JOIN clinic_appointment p ON p.id = a.appointment_id
            WHERE p.clinic_id = %s
            """,
            [clinic.pk],
        )
        return cursor.fetchone()[0]


def refused_page_marker() -> str:
    """What the booking page says, in French as the bench asks, when the time was taken."""
    from django.utils import translation
    from django.utils.html import escape

    from intake.services import MSG_SLOT_UNAVAILABLE

    with translation.override("fr"):
        return escape(translation.gettext(MSG_SLOT_UNAVAILABLE))


def bench_booking_contention(port: int, fixture: dict, rounds: int = 10, clients: int = 16) -> dict:
    """`clients` signed-in clients press "book" on the same slot at the same
    moment, for `rounds` slots: each slot is booked once per clinician, the
    others are told the time was taken, nobody gets an error."""
    import http.client
    import threading

    marker = refused_page_marker()
    pairs = fixture["contention"]
    outcomes: list[str] = []
    lock = threading.Lock()
    for r in range(rounds):
        group = pairs[r * clients : (r + 1) * clients]
        slot_path = group[0][1]
        barrier = threading.Barrier(clients)

        def press(pair, n, slot_path=slot_path, barrier=barrier, r=r):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            method, _, body, headers = booking_request(pair, f"10.9.{r}.{n}")
            barrier.wait()
            conn.request(method, slot_path, body=body, headers=headers)
            response = conn.getresponse()
            page = response.read().decode(errors="replace")
            conn.close()
            if response.status == 302:
                outcome = "booked"
            elif response.status == 200 and marker in page:
                outcome = "refused"
            else:
                outcome = f"error {response.status}"
            with lock:
                outcomes.append(outcome)

        threads = [threading.Thread(target=press, args=(p, n)) for n, p in enumerate(group)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    return {
        "attempts": len(outcomes),
        "booked": outcomes.count("booked"),
        "refused": outcomes.count("refused"),
        "errors": sorted(o for o in outcomes if o.startswith("error")),
        "expected": rounds * fixture["clinicians"],
        "double": double_bookings(fixture["clinic"]),
    }


def slot_page_in_process(ids: dict, rounds: int = 30) -> dict:
    """The slot listing in this process: read from the cached copy, and
    computed (the copy dropped first), median ms of each."""
    from django.core.cache import caches
    from django.test import Client

    path = f"/book/{ids['clinic_slug']}/"
    browser = Client(HTTP_HOST="127.0.0.1", HTTP_ACCEPT_LANGUAGE="fr")
    timings: dict[str, list[float]] = {"cached": [], "computed": []}
    browser.get(path)
    for _ in range(rounds):
        for kind in ("computed", "cached"):
            if kind == "computed":
                caches["fragments"].clear()
            started = time.perf_counter()
            browser.get(path)
            timings[kind].append((time.perf_counter() - started) * 1000)
    return {kind: statistics.median(values) for kind, values in timings.items()}


def start_server(env: dict, *options: str):
    """gunicorn serving the app as in production, on a free local port."""
    import socket
    import subprocess  # nosec B404

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(  # nosec B603
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            *options,
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        env=env,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    return server, port


def stop_server(server) -> None:
    """Stop gunicorn; one that does not stop in 10 s is killed (a timeout
    here would hide whatever stopped the run)."""
    import subprocess  # nosec B404

    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def ensure_groups(clinic, coordinator) -> None:
    """The clinic's integration groups, as seed_scale fills them (a bench
    database seeded before it did gets them here)."""
    from django.utils import timezone

    from clinic.models import ClientProfile, Room, StaffProfile, StaffRole
    from demo.groups import fill_groups
    from integration.groups.models import IntegrationGroup

    if IntegrationGroup.objects.filter(clinic=clinic).exists():
        return
    fill_groups(
        clinic=clinic,
        rooms=list(Room.objects.filter(clinic=clinic).order_by("name")),
        therapists=[
            p.user
            for p in StaffProfile.objects.filter(
                clinics=clinic, role=StaffRole.THERAPIST
            ).select_related("user")
        ],
        coordinator=coordinator,
        clients=list(ClientProfile.objects.filter(clinic=clinic)[:200]),
        today=timezone.localdate(timezone=clinic.zone),
        now=timezone.now(),
        batch=5000,
    )


def bench_pdf(rounds: int = 5) -> dict:
    """The insurer's breakdown: a first render (the cache empty: selector,
    template, WeasyPrint with the static-only fetcher, PDF/UA tagging)
    against WeasyPrint's bare render of the same HTML (default fetcher, no
    variant), medians of `rounds`; and the queries of the first render for
    an invoice of one appointment and one of ten (the same budget)."""
    from datetime import timedelta

    from django.core.cache import caches
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone
    from weasyprint import HTML

    from billing import pdf, services
    from billing.catalogue import catalogue_install, tax_rates_install
    from billing.selectors import _documents, breakdown, clinic_billing_settings
    from billing.views import breakdown_pdf
    from clinic import calendar
    from clinic.accounts import client_register, staff_profile_create
    from clinic.models import Appointment, Clinic, StaffRole, User

    result: dict = {}
    with transaction.atomic():
        clinic = Clinic.objects.create(
            slug="bench-pdf",
            name="Bench PDF",
            province="QC",
            time_zone="America/Toronto",
            street_address="1 rue Bench",
            city="Montréal",
            postal_code="H1H 1H1",
            phone="+15145550100",
            email="pdf@bench.example",
            minimum_client_age=18,
        )
        tax_rates_install()
        catalogue_install(
            clinic=clinic, since=timezone.localdate() - timedelta(days=400), prefix="BPDF"
        )
        people = []
        for role, number in (
            (StaffRole.THERAPIST, "OPQ-1"),
            (StaffRole.MEDICAL_PRACTITIONER, "CMQ-1"),
        ):
            user = User.objects.create_user(
                f"{role}@bench-pdf.example", first_name="Bench", last_name=role
            )
            staff_profile_create(
                user=user, role=role, clinics=[clinic], profession=role, registration_number=number
            )
            people.append(user)
        invoices = {}
        for size in (1, 10):
            client = client_register(
                user=User.objects.create_user(
                    f"client{size}@bench-pdf.example", first_name="Client", last_name=str(size)
                ),
                clinic=clinic,
            )
            held = []
            for i in range(size):
                start = timezone.now().replace(microsecond=0) - timedelta(days=30 + i + size * 20)
                appointment = calendar.appointment_book(
                    clinic=clinic,
                    kind="dosing_session",
                    start=start,
                    end=start + timedelta(hours=3),
                    staff=people,
                    client=client,
                )
                held.append(
                    calendar.appointment_mark(
                        appointment=appointment,
                        status=Appointment.Status.HELD,
                        now=start + timedelta(hours=3),
                    )
                )
            invoice = services.invoice_draft(client=client, appointments=held, actor=people[0])
            invoices[size] = services.invoice_issue(invoice=invoice, actor=people[0])
        first, bare = [], []
        big = _documents().get(pk=invoices[10].pk)
        for _ in range(rounds):
            caches["default"].clear()
            started = time.perf_counter()
            breakdown_pdf(big, "fr")
            first.append((time.perf_counter() - started) * 1000)
            html, _pdf = pdf.render(
                "billing/pdf/breakdown.html",
                {
                    "b": breakdown(invoice=big, language="fr"),
                    "settings": clinic_billing_settings(clinic),
                },
                language="fr",
            )
            started = time.perf_counter()
            HTML(string=html, base_url=pdf.BASE_URL).write_pdf()
            bare.append((time.perf_counter() - started) * 1000)
        for size, invoice in invoices.items():
            caches["default"].clear()
            with CaptureQueriesContext(connection) as queries:
                breakdown_pdf(_documents().get(pk=invoice.pk), "fr")
            result[f"queries_{size}"] = len(queries)
        result["first_ms"] = statistics.median(first)
        result["bare_ms"] = statistics.median(bare)
        result["lines"] = big.lines.count()
        transaction.set_rollback(True)
    return result


def server_env(database: str | None = None) -> dict:
    """The environment gunicorn serves the bench in: production settings
    against the bench database (or `database`), static files collected,
    rate limits reset."""
    import subprocess  # nosec B404
    import tempfile

    import redis

    static_root = tempfile.mkdtemp(prefix="bench-static-")
    env = {
        **os.environ,
        "DATABASE_URL": database or BENCH_DB,
        "DJANGO_PRODUCTION": "1",
        "SECRET_KEY": BENCH_SECRET,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "BENCH_FLOOR": "1",
        "CONN_MAX_AGE": "60",
        "STATIC_ROOT": static_root,
        "LOG_LEVEL": "WARNING",
        # As in production: rate limits counted in Redis, the client's
        # address read through one proxy (each simulated client has its own).
        "REDIS_URL": BENCH_REDIS,
        "TRUSTED_PROXY_COUNT": "1",
    }
    counters = redis.Redis.from_url(BENCH_REDIS)
    for key in counters.scan_iter("ratelimit:*"):  # earlier runs' counts, and nothing else
        counters.delete(key)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], env=env, check=True
    )  # nosec
    return env


FLOORS = [
    ("floor: bare view", "/bench/bare/", None),
    (ONE_QUERY_FLOOR, "/bench/one-query/", None),
    (SIGNED_IN_FLOOR, "/staff/bench-one-query/", "therapist"),
]


def page_plan(ids: dict) -> list[dict]:
    """Each row of the page table as a request: the floors, then PAGES, each
    with its path, its person's session cookie and its queries per request
    (counted in this process)."""
    from django.core.management import call_command

    cookies = page_cookies(ids)
    call_command("check")  # the app loads in this process too (for query counts)
    plan = []
    for label, path, who in FLOORS + PAGES:
        path = path(ids) if callable(path) else path
        cookie = cookies.get(who)
        if label in (ONE_QUERY_FLOOR, "floor: bare view"):
            queries = int(label == ONE_QUERY_FLOOR)
        else:
            queries = queries_per_request(path, cookie)
        plan.append({"label": label, "path": path, "cookie": cookie, "queries": queries})
    return plan


def bench_pages(ids: dict, booking: bool = True) -> list[tuple]:
    """The page table under gunicorn; with `booking`, the booking POST row,
    the contention run and the access log's readers after it."""
    env = server_env()
    server, port = start_server(env, "--workers", "2")
    try:
        rows = []
        floor = {}
        for row in page_plan(ids):
            request = page_request(row["path"], row["cookie"])
            load(port, request, seconds=1)
            result = load(port, request)
            if row["label"].startswith("floor: "):
                floor[row["label"]] = result
            rows.append((row["label"], result, row["queries"]))

        if not booking:
            return rows, floor, None
        # Booking POST: each request a different signed-in client taking a
        # different free slot, as on a busy morning.
        fixture = ids["booking"]
        pairs = iter(fixture["load"])
        counter = iter(range(10**6))

        def next_booking():
            pair = next(pairs, None)
            n = next(counter)
            return (
                booking_request(pair, f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}")
                if pair
                else None
            )

        result = load(port, next_booking, expect=302)
        rows.append(("booking POST", result, booking_queries(fixture["in_process"])))
    finally:
        stop_server(server)
    # Sixteen requests inside the app at once (the pages above ran on two
    # sync workers, which would let only two race).
    server, port = start_server(env, "--workers", "2", "--threads", "8")
    try:
        contention = bench_booking_contention(port, fixture)
        contention["readers"] = bench_access_log_readers(port, readers_cookies(ids))
    finally:
        server.terminate()
        server.wait(timeout=10)
    return rows, floor, contention


READERS_PAGE = "/staff/"  # the staff course list: 25 reads logged per view


def readers_cookies(ids: dict, people: int = 8) -> list[str]:
    """Signed-in sessions of `people` therapists of the clinic (bench ones
    added if it has fewer), each reading as a staff member of their own."""
    from clinic.accounts import staff_profile_create
    from clinic.models import StaffProfile, StaffRole, User

    clinic = ids["therapist"].staff_profile.clinics.first()
    for i in range(people):
        email = f"bench-reader{i}@{clinic.slug}.example"
        if not User.objects.filter(email=email).exists():
            user = User.objects.create_user(email)
            staff_profile_create(user=user, role=StaffRole.THERAPIST, clinics=[clinic])
    readers = StaffProfile.objects.filter(
        role=StaffRole.THERAPIST, clinics=clinic, user__email__startswith="bench-reader"
    )
    users = [p.user for p in readers.select_related("user").order_by("pk")[:people]]
    return [session_cookie(user, staff=True) for user in users]


def _seal_every_second(stop, sealed) -> None:
    """The sealer as the worker runs it, in a process of its own (so that
    its hashing never holds up the clients' threads in this one)."""
    from django.db import connection

    from clinic.access_log import access_log_seal

    try:
        while not stop.is_set():
            with sealed.get_lock():
                sealed.value += access_log_seal()
            stop.wait(1.0)
    finally:
        connection.close()


def bench_access_log_readers(
    port: int, cookies: list[str], *, clients: int = 8, seconds: float = 6.0, seal: bool = True
) -> dict:
    """`clients` staff reading the course list at once (each view logs 25
    reads) on the threaded server, while the sealer runs beside them as beat
    runs it (here every second, so that it works during the run): with no
    lock on the request path, nobody queues (issue 15: p99 <= 1.5x p50)."""
    import http.client
    import itertools
    import multiprocessing
    import threading

    from django.db import connections

    from clinic.access_log import access_log_seal
    from clinic.models import AccessLogEntry

    def newest() -> int:
        return AccessLogEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    # Each client (a thread of load()) is one staff member with a session of
    # their own, as at the clinic: nobody shares a session row with another.
    requests = [page_request(READERS_PAGE, cookie)() for cookie in cookies]
    own: dict[int, tuple] = {}
    sessions = itertools.cycle(requests)

    def request_for():
        return own.setdefault(threading.get_ident(), next(sessions))

    # Warm up: every session's first requests (they record the session), and
    # every worker thread's first page.
    for method, path, body, headers in requests * 2:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request(method, path, body=body, headers=headers)
        conn.getresponse().read()
        conn.close()
    load(port, request_for, clients=clients, seconds=2)
    if seal:
        access_log_seal()  # the sealer has caught up when the run starts
    before = newest()
    context = multiprocessing.get_context("fork")
    stop, sealed = context.Event(), context.Value("i", 0)
    connections.close_all()  # the sealer's process opens its own
    sealer = context.Process(target=_seal_every_second, args=(stop, sealed))
    if seal:
        sealer.start()
    try:
        result = load(port, request_for, clients=clients, seconds=seconds)
    finally:
        stop.set()
        if seal:
            sealer.join(timeout=60)
    result["sealed_during"] = sealed.value
    if seal:
        result["sealed_during"] += access_log_seal()
    result["logged"] = newest() - before
    result["people"] = len(cookies)
    result["unsealed"] = AccessLogEntry.objects.filter(seq__isnull=True).count()
    return result


def print_access_log_readers(readers: dict) -> None:
    ratio = readers["p99"] / readers["p50"]
    per_view = readers["logged"] / max(1, readers["requests"])
    print(
        f"access log, 8 clients ({readers['people']} staff) reading the course list at once ({per_view:.0f} reads logged per view, "
        f"gunicorn 2 workers x 8 threads, a sealer running beside them): {readers['rps']:.0f} req/s, "
        f"p50 {readers['p50']:.1f} ms, p99 {readers['p99']:.1f} ms, p99/p50 {ratio:.2f} "
        f"(target <= 1.5: {verdict(ratio <= 1.5)}); {readers['sealed_during']} entries sealed, "
        f"{readers['unsealed']} left unsealed{', ' + str(readers['errors']) + ' errors' if readers['errors'] else ''}"
    )


def bench_reminder_sweep(count: int = 10000, workers: int = 2) -> dict:
    """Due reminders delivered through the outbox by two sweeps at once, each
    in its own process as two Celery workers would be."""
    import multiprocessing

    from django.core import mail
    from django.db import connections
    from django.test.utils import override_settings

    from clinic import outbox
    from clinic.models import OutboxMessage
    from clinic.outbox import outbox_sweep

    sent_here: list[str] = []

    @outbox.handler("bench.reminder")
    def reminder(message):
        mail.EmailMessage("Reminder", "Your call is tomorrow.", to=["client@example.com"]).send()
        sent_here.append(message.key)
        return True

    # Due at a moment of their own, and swept "as of" then: whatever else the
    # bench database holds (the scale data's reminders) is not due.
    due = datetime(2001, 1, 1, tzinfo=ZoneInfo("UTC"))
    OutboxMessage.objects.filter(kind="bench.reminder").delete()
    OutboxMessage.objects.bulk_create(
        OutboxMessage(kind="bench.reminder", key=f"r{i}", payload={}, due_at=due)
        for i in range(count)
    )
    context = multiprocessing.get_context("fork")
    results = context.Queue()

    def sweep():
        mail.outbox = []
        outbox_sweep(limit=count, now=due)
        connections.close_all()
        results.put(sent_here)

    @outbox.handler("bench.floor")
    def claimed(message):
        sent_here.append(message.key)
        return True

    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        connections.close_all()  # each process opens its own connection
        started = time.perf_counter()
        processes = [context.Process(target=sweep) for _ in range(workers)]
        for process in processes:
            process.start()
        sent_keys = [key for _ in processes for key in results.get()]
        for process in processes:
            process.join()
        elapsed = time.perf_counter() - started
    OutboxMessage.objects.filter(kind="bench.reminder").delete()

    # The fair floor (issue 15): the same number of rows claimed and marked
    # by the same two sweeps, with a handler that renders and sends nothing.
    OutboxMessage.objects.bulk_create(
        OutboxMessage(kind="bench.floor", key=f"f{i}", payload={}, due_at=due) for i in range(count)
    )
    connections.close_all()
    started = time.perf_counter()
    processes = [context.Process(target=sweep) for _ in range(workers)]
    for process in processes:
        process.start()
    claimed_keys = [key for _ in processes for key in results.get()]
    for process in processes:
        process.join()
    floor_elapsed = time.perf_counter() - started
    OutboxMessage.objects.filter(kind="bench.floor").delete()
    return {
        "per_second": len(sent_keys) / elapsed,
        "floor_per_second": len(claimed_keys) / floor_elapsed,
        "sent": len(sent_keys),
        "duplicates": len(sent_keys) - len(set(sent_keys)),
    }


LARGE_TABLE = 1000  # rows: below this a sequential scan is the planner's right choice


def explain_pages(ids: dict) -> None:
    """Each key page's queries with PostgreSQL's plan: an index scan where a
    page filters or orders, never a sequential scan of a large table."""
    from django.core.cache import caches
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from clinic.models import OutboxMessage

    # The reminder sweep's claim of the next due row (the outbox holds every
    # reminder ever queued): the partial index on pending rows by due time.
    claim = (
        OutboxMessage.objects.select_for_update(skip_locked=True)
        .filter(status=OutboxMessage.Status.PENDING, due_at__lte=timezone.now())
        .order_by("due_at", "pk")[:1]
    )
    with transaction.atomic():
        print(f"== reminder sweep, next due row ({OutboxMessage.objects.count()} rows)")
        print("   " + claim.explain().replace("\n", "\n   "))

    cookies = page_cookies(ids)
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname, reltuples FROM pg_class WHERE relkind = 'r'")
        sizes = dict(cursor.fetchall())
    large_scans: list[tuple[str, str]] = []
    for label, path, who in PAGES:
        path = path(ids) if callable(path) else path
        browser = Client(
            HTTP_HOST="127.0.0.1", HTTP_COOKIE=cookies.get(who, ""), HTTP_ACCEPT_LANGUAGE="fr"
        )
        browser.get(path)
        caches["fragments"].clear()  # the page's own queries, not its cached copy
        with CaptureQueriesContext(connection) as captured:
            browser.get(path)
        print(f"\n== {label} ({path}): {len(captured)} queries")
        with connection.cursor() as cursor:
            for query in captured.captured_queries:
                sql = query["sql"]
                if not sql.lstrip().upper().startswith("SELECT"):
                    continue
                cursor.execute("EXPLAIN " + sql)  # nosec B608: the app's own queries, replayed
                plan = [row[0] for row in cursor.fetchall()]
                print(f"  {float(query['time']) * 1000:6.1f} ms  {sql[:90]}")
                for line in plan:
                    if "Seq Scan on " not in line:
                        continue
                    table = line.split("Seq Scan on ", 1)[1].split()[0]
                    large = sizes.get(table, 0) >= LARGE_TABLE
                    print(f"           {'!' if large else ' '} {line.strip()}")
                    if large:
                        large_scans.append((label, table))
    print(
        f"\nSequential scans of tables over {LARGE_TABLE:,} rows: "
        + (", ".join(f"{table} ({label})" for label, table in large_scans) or "none")
    )


def explain_access_log() -> None:
    """The privacy officer's access-log pages on a large log (seed_scale
    --access-log-rows): each page's time, and for each of its queries on the
    log EXPLAIN (ANALYZE, BUFFERS)'s total time, the partitions it read and
    the indexes it used. A date filter must read only its months' partitions."""
    import re

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from clinic.access_log_partitions import partitions_list
    from clinic.models import AccessLogEntry, ClientProfile, StaffProfile, StaffRole

    officer = (
        StaffProfile.objects.filter(
            role=StaffRole.PRIVACY_OFFICER, clinics__slug__startswith="scale-"
        )
        .select_related("user")
        .order_by("pk")
        .first()
    )
    clinic = officer.clinics.first()
    months = [p for p in partitions_list() if p.month is not None]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sum(c.reltuples)::bigint FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'clinic_accesslogentry'"
        )
        total = cursor.fetchone()[0] or 0
    sample = months[len(months) // 2 - 2].month  # a month in the middle of the log
    client = ClientProfile.objects.filter(clinic=clinic).order_by("pk").first()
    actor = officer.user
    staff_member = (
        AccessLogEntry.objects.filter(at__gte=sample.replace(day=2), client__clinic=clinic)
        .values_list("actor_id", flat=True)
        .first()
    )
    month = {"at__year": sample.year, "at__month": sample.month}
    day = {**month, "at__day": 15}
    pages = [
        ("the log, newest first (no filter)", {}),
        (f"one month ({sample:%Y-%m})", month),
        ("one day", day),
        ("one client, all time", {"client__id__exact": client.pk}),
        ("one client, one month", {"client__id__exact": client.pk, **month}),
        ("one staff member, one month", {"actor__id__exact": staff_member, **month}),
        ("one action (exported), one month", {"action__exact": "export", **month}),
        ("one action (exported), all time", {"action__exact": "export"}),
    ]
    url = reverse("admin:clinic_accesslogentry_changelist")
    browser = Client(
        HTTP_HOST="127.0.0.1",
        HTTP_COOKIE=session_cookie(actor, staff=True),
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    print(
        f"== The privacy officer's access log ({total:,} entries in {len(months)} monthly "
        f"partitions; officer of {clinic.name}, 1 of 4 clinics)"
    )
    for label, params in pages:
        browser.get(url, params)
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as captured:
            response = browser.get(url, params)
        elapsed = (time.perf_counter() - started) * 1000
        print(
            f"\n-- {label} {params or ''}: HTTP {response.status_code}, {elapsed:.0f} ms, "
            f"{len(captured)} queries"
        )
        with connection.cursor() as cursor:
            for query in captured.captured_queries:
                sql = query["sql"]
                if "clinic_accesslogentry" not in sql or not sql.lstrip().upper().startswith(
                    "SELECT"
                ):
                    continue
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)  # nosec B608: the app's own
                plan = [row[0] for row in cursor.fetchall()]
                text = "\n".join(plan)
                partition = r"clinic_accesslogentry_(y\d{4}m\d\d|default)"
                in_plan = set(re.findall(partition, text))
                # A partition the executor skipped (pruned at run time, or
                # not reached before the LIMIT) shows "(never executed)".
                read = sorted(
                    {
                        match
                        for line in plan
                        if "never executed" not in line
                        for match in re.findall(partition + r"\b", line)
                    }
                )
                indexes = sorted(
                    {
                        re.sub(partition + "_", "<month>_", name)
                        for name in re.findall(
                            r"Index (?:Only )?Scan(?: Backward)? using (\S+)", text
                        )
                    }
                )
                seq = sorted(set(re.findall(r"Seq Scan on (\S+)", text)))
                timing = "; ".join(
                    line.strip()
                    for line in plan
                    if line.startswith(("Planning Time", "Execution Time"))
                )
                print(f"  {float(query['time']) * 1000:7.1f} ms  {sql[:110]}")
                print(
                    f"           {timing}; partitions in the plan {len(in_plan)}, read {len(read)}"
                    f" ({', '.join(read[:3])}{', ...' if len(read) > 3 else ''})"
                )
                print(f"           indexes: {', '.join(indexes) or 'none'}")
                if seq:
                    print(
                        f"           seq scans: {', '.join(seq[:4])}{' ...' if len(seq) > 4 else ''}"
                    )
                if os.environ.get("BENCH_SHOW_PLANS"):
                    print("           " + text.replace("\n", "\n           "))


TEST_RUN_RECORD = os.path.join(os.path.dirname(os.path.dirname(__file__)), "var", "test-run.json")
TEST_COMMAND_TARGET_SECONDS = 6 * 60


def print_test_command() -> None:
    """Item 8's figure: the whole suite's last run in this checkout, as the
    test session recorded it (tests/conftest.py), against 6 minutes."""
    import json

    try:
        with open(TEST_RUN_RECORD) as record:
            run = json.load(record)
    except (OSError, ValueError):
        print(
            "test command: no whole run recorded in var/test-run.json "
            "(run `make test` in this checkout first): not measured"
        )
        return
    ok = run["seconds"] < TEST_COMMAND_TARGET_SECONDS and run["exit_status"] == 0
    outcome = "passed" if run["exit_status"] == 0 else f"{run['failed']} failed"
    print(
        f"test command, last whole run ({run['finished']}): {run['tests']} tests on "
        f"{run['workers']} workers, {outcome}, {run['seconds']:.0f} s "
        f"(target < {TEST_COMMAND_TARGET_SECONDS} s and green: {verdict(ok)})"
    )


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def print_page_table(rows: list[tuple], floor: dict, clients: int) -> list[dict]:
    """Each row beside its own target (row_target), PASS or MISS; returns
    the rows as figures (for --json and the scale comparison)."""
    print()
    print(
        f"Pages under gunicorn (2 workers, 8 keep-alive clients, 4 s each), {clients} clients of data:"
    )
    print(
        "p50/1q: against the template + 1 query floor; p50/signed-in: against the same page "
        "behind the staff session, two-factor and time limits. Each row's target: a signed-in "
        f"page <= {PAGE_TARGET:g}x the signed-in floor, a public page <= {PAGE_TARGET:g}x the "
        f"one-query floor, the signed-in floor <= {SIGNED_IN_FLOOR_TARGET:g}x the one-query floor "
        f"(exceptions: {', '.join(f'{k} {v:g}x' for k, v in TARGETS.items())})."
    )
    print(
        f"{'page':48} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'queries':>7} {'p50/1q':>7} "
        f"{'p50/signed-in':>13}  target"
    )
    one_query = floor[ONE_QUERY_FLOOR]["p50"]
    signed_in = floor[SIGNED_IN_FLOOR]["p50"]
    signed_in_rows = {label for label, _path, who in PAGES if who} | {
        SIGNED_IN_FLOOR,
        "booking POST",
    }
    figures = []
    for label, result, queries in rows:
        against, target = row_target(label, label in signed_in_rows)
        text = ""
        ratio = None
        if against:
            ratio = result["p50"] / floor[against]["p50"]
            name = "signed-in" if against == SIGNED_IN_FLOOR else "one-query"
            text = f"<= {target:g}x {name}: {verdict(ratio <= target)}"
        if result["errors"]:
            statuses = ", ".join(str(status) for status in sorted(result["unexpected"]))
            text += f"  ({result['errors']} unexpected answers: {statuses})"
            if os.environ.get("BENCH_SHOW_UNEXPECTED"):
                for status, (path, body) in result["unexpected"].items():
                    print(f"--- {status} {path}\n{body.decode(errors='replace')}")
        print(
            f"{label[:48]:48} {result['rps']:7.0f} {result['p50']:7.1f} {result['p99']:7.1f} "
            f"{queries:7d} {result['p50'] / one_query:7.2f} {result['p50'] / signed_in:13.2f}  {text}"
        )
        figures.append(
            {
                "label": label,
                "p50": result["p50"],
                "p99": result["p99"],
                "rps": result["rps"],
                "queries": queries,
                "against": against,
                "ratio": ratio,
                "target": target,
            }
        )
    for label in NOT_BUILT:
        print(f"{label:48} {'not built yet':>8}")
    return figures


# A page's cost may grow with the clinic by this much from 10,000 to 100,000
# clients (issue 15).
SCALE_TARGET = 1.2


def scale_compare(sizes: list[int], rounds: int = 8, seconds: float = 0.5) -> int:
    """The page table at two sizes in one run: a gunicorn per size (each its
    own database, seeded once and kept), and each page loaded on the two in
    turn, `rounds` times for `seconds` each, the order swapped every round.
    The machine's drift (minutes apart it moved a page with no query by
    1.3x) falls on both sizes alike, so each page's p50 at the larger size
    over its p50 at the smaller is the figure, with no floor between."""
    import json
    import subprocess  # nosec B404
    import tempfile

    small, large = sizes[0], sizes[-1]
    plans = {}
    for clients in (small, large):
        print(
            f"== {clients:,} clients ({bench_database_for(clients).rsplit('/', 1)[-1]}): "
            "data, sessions and query counts",
            flush=True,
        )
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            subprocess.run(  # nosec B603
                [
                    sys.executable,
                    "-m",
                    "bench.run",
                    "--clients",
                    str(clients),
                    "--page-plan",
                    out.name,
                ],
                check=True,
            )
            plans[clients] = {row["label"]: row for row in json.load(open(out.name))}  # noqa: SIM115
    servers = {}
    try:
        for clients in (small, large):
            servers[clients] = start_server(
                server_env(bench_database_for(clients)), "--workers", "2"
            )
        print(
            f"Each page on both servers in turn, {rounds} rounds of {seconds:g} s each "
            "(2 workers each, 8 keep-alive clients):",
            flush=True,
        )
        results = {}
        for label in plans[small]:
            if label not in plans[large]:
                continue
            requests = {
                n: page_request(plans[n][label]["path"], plans[n][label]["cookie"])
                for n in (small, large)
            }
            latencies: dict[int, list[float]] = {small: [], large: []}
            errors = 0
            for n in (small, large):  # warm both
                load(servers[n][1], requests[n], seconds=seconds)
            for turn in range(rounds):
                for n in (small, large) if turn % 2 == 0 else (large, small):
                    result = load(servers[n][1], requests[n], seconds=seconds)
                    latencies[n].extend(result["latencies"])
                    errors += result["errors"]
            results[label] = {
                "queries": (plans[small][label]["queries"], plans[large][label]["queries"]),
                "p50": tuple(statistics.median(latencies[n]) for n in (small, large)),
                "errors": errors,
            }
    finally:
        for server, _port in servers.values():
            stop_server(server)
    print_scale_ratios(results, small, large)
    return 0


def print_scale_ratios(results: dict, small: int, large: int) -> None:
    """Each page's p50 at the larger size over the smaller, from one
    alternating run (`results`: label -> queries and p50 at each size)."""
    print()
    print(
        f"Cost per page from {small:,} to {large:,} clients, measured alternately "
        f"(target <= {SCALE_TARGET:g}x the p50 at {small:,}; the floors are the drift check):"
    )
    print(f"{'page':48} {'queries':>9} {'p50 ms':>15} {'ratio':>6}  target")
    for label, result in results.items():
        before, after = result["p50"]
        ratio = after / before
        if label.startswith("floor: "):
            outcome = "(a floor: near 1.00 when the run is fair)"
        else:
            outcome = verdict(
                ratio <= SCALE_TARGET and result["queries"][0] == result["queries"][1]
            )
        if result["errors"]:
            outcome += f"  ({result['errors']} unexpected answers)"
        print(
            f"{label[:48]:48} {result['queries'][0]:4d}/{result['queries'][1]:<4d} "
            f"{before:7.1f}/{after:<7.1f} {ratio:6.2f}  {outcome}"
        )


def pages_only(options) -> int:
    """The page table alone (no booking rows), as the scale comparison runs it."""
    ids = ensure_scale_data(options.clients)
    rows, floor, _ = bench_pages(ids, booking=False)
    figures = print_page_table(rows, floor, options.clients)
    if options.json:
        import json

        with open(options.json, "w") as out:
            json.dump({"rows": figures, "floor": floor[ONE_QUERY_FLOOR]["p50"]}, out)
    return 0


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--clients",
        type=int,
        default=DEFAULT_CLIENTS,
        help="scale data size (seed_scale); each size in its own database, seeded once and kept",
    )
    parser.add_argument(
        "--skip-pages", action="store_true", help="slot generation and the sweep only"
    )
    parser.add_argument(
        "--pages-only", action="store_true", help="the page table only (no booking rows)"
    )
    parser.add_argument("--json", help="also write the page table's figures to this file")
    parser.add_argument(
        "--scale-compare",
        metavar="N,M",
        help="the page table at N and at M clients, and each page's ratio (e.g. 10000,100000)",
    )
    parser.add_argument(
        "--explain", action="store_true", help="print each key page's queries and their plans"
    )
    parser.add_argument(
        "--page-plan",
        metavar="FILE",
        help="write the page table's requests (path, session, queries) to FILE and stop "
        "(what --scale-compare asks of each size)",
    )
    parser.add_argument(
        "--explain-access-log",
        action="store_true",
        help="the privacy officer's access-log filters on a large log: times and plans "
        "(seed it first: manage.py seed_scale --clients 0 --access-log-rows N)",
    )
    parser.add_argument(
        "--bookings",
        type=int,
        default=700,
        help="clients who each book once in the booking POST run",
    )
    parser.add_argument(
        "--access-log-only",
        action="store_true",
        help="only the access log's readers row (8 staff on the course list at once)",
    )
    options = parser.parse_args()
    if options.scale_compare:
        return scale_compare(sorted(int(n) for n in options.scale_compare.split(",")))

    global BENCH_DB  # noqa: PLW0603 - the size's own database, before Django reads it
    BENCH_DB = bench_database_for(options.clients)
    os.environ["DATABASE_URL"] = BENCH_DB
    ensure_database()
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    print(
        f"Benchmarks on {os.cpu_count()} cores, database {BENCH_DB.rsplit('@', 1)[-1]}", flush=True
    )
    if options.explain_access_log:
        explain_access_log()
        return 0
    if options.pages_only:
        return pages_only(options)
    if options.page_plan:
        import json

        with open(options.page_plan, "w") as out:
            json.dump(page_plan(ensure_scale_data(options.clients)), out)
        return 0

    if options.access_log_only:
        ids = ensure_scale_data(options.clients)
        server, port = start_server(server_env(), "--workers", "2", "--threads", "8")
        try:
            print_access_log_readers(bench_access_log_readers(port, readers_cookies(ids)))
        finally:
            server.terminate()
            server.wait(timeout=10)
        return 0
    slots = bench_slot_generation()
    slot_ratio = slots["median_ms"] / slots["floor_ms"]
    print(
        f"slot generation, 6 weeks x 10 clinicians, 1,000 bookings: median {slots['median_ms']:.1f} ms, "
        f"p95 {slots['p95_ms']:.1f} ms, {slots['queries']} queries, {slots['slots']} free slots; "
        f"floor (the same rows read, nothing done) {slots['floor_ms']:.1f} ms, "
        f"ratio {slot_ratio:.2f} (target <= 2x the floor: {verdict(slot_ratio <= 2)}; "
        f"old absolute target <= 20 ms: {verdict(slots['median_ms'] <= 20)})",
        flush=True,
    )
    sweep = bench_reminder_sweep()
    sweep_ratio = sweep["per_second"] / sweep["floor_per_second"]
    print(
        f"reminder sweep, 10,000 due, two worker processes at once: {sweep['per_second']:.0f} per second, "
        f"{sweep['sent']} sent, {sweep['duplicates']} duplicates; floor (claimed and marked, "
        f"nothing rendered or sent) {sweep['floor_per_second']:.0f} per second, ratio {sweep_ratio:.2f} "
        f"(target >= 0.5x the floor and 0 duplicates: "
        f"{verdict(sweep_ratio >= 0.5 and sweep['duplicates'] == 0)}; "
        f"old absolute target >= 500/s: {verdict(sweep['per_second'] >= 500)})",
        flush=True,
    )
    if options.skip_pages:
        return 0
    ids = ensure_scale_data(options.clients)
    if options.explain:
        explain_pages(ids)
        return 0
    print("Preparing the booking clinic and its clients...", flush=True)
    ids["booking"] = booking_fixture(BOOKING_CONTENTION_CLIENTS + options.bookings + 3)
    try:
        rows, floor, contention = bench_pages(ids)
    finally:
        booking_cleanup(ids["booking"])
    print_page_table(rows, floor, options.clients)
    breakdown = bench_pdf()
    ratio = breakdown["first_ms"] / breakdown["bare_ms"]
    print(
        f"insurer's breakdown PDF, {breakdown['lines']} lines: first render {breakdown['first_ms']:.0f} ms, "
        f"WeasyPrint's bare render of the same HTML {breakdown['bare_ms']:.0f} ms, ratio {ratio:.2f} "
        f"(target <= 1.3: {verdict(ratio <= 1.3)}); queries {breakdown['queries_1']} for 1 appointment, "
        f"{breakdown['queries_10']} for 10 (target the same: {verdict(breakdown['queries_1'] == breakdown['queries_10'])})"
    )
    slot_page = slot_page_in_process(ids)
    print(
        f"(home and the slot listing are served from each process's cached copy; in this process "
        f"the slot listing takes {slot_page['cached']:.1f} ms from the copy and "
        f"{slot_page['computed']:.1f} ms when computed, as after a booking anywhere)"
    )
    print()
    ok = (
        contention["double"] == 0
        and not contention["errors"]
        and contention["booked"] == contention["expected"]
    )
    errors = ", ".join(contention["errors"]) or "no other answer"
    print(
        f"booking, 16 clients pressing at once on each of 10 slots with {ids['booking']['clinicians']} "
        f"clinicians (gunicorn 2 workers x 8 threads): {contention['booked']} booked "
        f"(expected {contention['expected']}), {contention['refused']} told the time was taken, {errors}, "
        f"{contention['double']} double bookings (target 0 double bookings: {verdict(ok)})"
    )
    print_access_log_readers(contention["readers"])
    print_test_command()
    return 0


if __name__ == "__main__":
    sys.exit(main())
