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
from datetime import datetime, timedelta
from datetime import time as clock_time
from zoneinfo import ZoneInfo

BENCH_DB = os.environ.get("BENCH_DATABASE_URL", "postgres://root@127.0.0.1:5432/clinic_bench")
os.environ["DATABASE_URL"] = BENCH_DB
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")


def ensure_database() -> None:
    import psycopg

    name = BENCH_DB.rsplit("/", 1)[-1]
    admin = BENCH_DB.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def bench_slot_generation(rounds: int = 50) -> dict:
    """6 weeks x 10 clinicians with 1,000 existing bookings (target: 20 ms)."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from clinic.models import Appointment, Clinic, Reservation, StaffRole, User
    from clinic.services import staff_profile_create
    from intake.models import AvailabilityWindow, BookingRules
    from intake.selectors import intake_slots

    zone = ZoneInfo("America/Toronto")
    now = datetime(2026, 6, 1, 6, 0, tzinfo=zone)
    result = {}
    with transaction.atomic():
        clinic = Clinic.objects.create(
            slug="bench",
            name="Bench",
            province="QC",
            time_zone="America/Toronto",
            street_address="1",
            city="Montréal",
            postal_code="H1H 1H1",
            phone="5145550100",
            email="b@example.com",
            minimum_client_age=18,
        )
        BookingRules.objects.create(clinic=clinic, minimum_notice_hours=0, horizon_days=42)
        clinicians = []
        for i in range(10):
            user = User.objects.create_user(f"bench{i}@example.com")
            staff_profile_create(user=user, role=StaffRole.THERAPIST, clinics=[clinic])
            clinicians.append(user)
            AvailabilityWindow.objects.bulk_create(
                AvailabilityWindow(
                    clinic=clinic,
                    staff=user,
                    weekday=d,
                    start_time=clock_time(9),
                    end_time=clock_time(17),
                )
                for d in range(5)
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
        result = {
            "median_ms": statistics.median(timings),
            "p95_ms": sorted(timings)[int(0.95 * len(timings)) - 1],
            "queries": len(queries),
            "slots": sum(len(v) for v in slots.values()),
        }
        transaction.set_rollback(True)
    return result


def main() -> int:
    ensure_database()
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    print(f"Benchmarks on {os.cpu_count()} cores, database {BENCH_DB.rsplit('@', 1)[-1]}")
    slots = bench_slot_generation()
    verdict = "PASS" if slots["median_ms"] <= 20 else "MISS"
    print(
        f"slot generation, 6 weeks x 10 clinicians, 1,000 bookings: median {slots['median_ms']:.1f} ms, "
        f"p95 {slots['p95_ms']:.1f} ms, {slots['queries']} queries, {slots['slots']} free slots "
        f"(target <= 20 ms: {verdict})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
