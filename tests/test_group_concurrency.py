"""A group never goes over capacity and its waitlist order is never broken,
with many clients enrolling and leaving at the same moment, on PostgreSQL
with real threads and connections. The control shows the race is real
without the group's row lock (so the main test can fail)."""

import contextlib
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from clinic.models import Stage
from clinic.tests.factories import client_create
from integration.groups import services
from integration.groups.models import Enrolment, IntegrationGroup
from integration.tests.group_factories import in_stage, weekly_group
from tests.concurrency import race

pytestmark = pytest.mark.django_db(transaction=True)

MTL = ZoneInfo("America/Toronto")
NOW = datetime(2026, 6, 1, 8, 0, tzinfo=MTL)
CAPACITY = 3


@pytest.fixture
def busy_group(clinic_qc, coordinator, therapist):
    """A group of three places, full, with two waiting; eight more clients
    who will ask at once while two members leave."""
    with time_machine.travel(NOW, tick=False):
        group = weekly_group(
            clinic=clinic_qc,
            coordinator=coordinator,
            facilitators=[therapist],
            capacity=CAPACITY,
            count=4,
        )
        people = [client_create(clinic=clinic_qc) for _ in range(13)]
        for person in people:
            in_stage(person, Stage.INTEGRATE)
        members = [services.group_enrol(group=group, client=p) for p in people[:3]]
        waiting = [services.group_enrol(group=group, client=p, waitlist=True) for p in people[3:5]]
    return group, members, waiting, people[5:]


def attempts_for(group, members, newcomers):
    enrol = [
        (lambda person=person: services.group_enrol(group=group, client=person, waitlist=True))
        for person in newcomers
    ]
    leave = [(lambda e=e: services.group_leave(enrolment=e)) for e in members[:2]]
    return enrol + leave


def assert_intact(group, waiting):
    enrolled = Enrolment.objects.filter(group=group, status=Enrolment.Status.ENROLLED)
    assert enrolled.count() == CAPACITY
    # The two who waited before the rush hold the freed places, in their order.
    promoted = set(enrolled.values_list("pk", flat=True))
    assert {w.pk for w in waiting} <= promoted
    line = list(
        Enrolment.objects.filter(group=group, status=Enrolment.Status.WAITLISTED)
        .order_by("position")
        .values_list("position", flat=True)
    )
    assert len(line) == len(set(line)) == 8


def test_many_clients_enrolling_and_leaving_at_once_never_overfill_the_group(busy_group):
    group, members, waiting, newcomers = busy_group
    outcomes = race(attempts_for(group, members, newcomers), refusal=services.GroupError, at=NOW)
    assert outcomes["crashed"] == []
    assert outcomes["refused"] == []
    assert_intact(group, waiting)


@pytest.fixture
def without_the_lock(monkeypatch):
    """Control: no row lock, and every change, its counting done, waits for
    the others before writing (the race a lock exists to prevent)."""
    gate = threading.Barrier(10, timeout=5)
    count = services._enrolled

    def no_lock(group):
        return IntegrationGroup.objects.get(pk=group.pk)

    def counted_together(group):
        rows = count(group)
        with contextlib.suppress(threading.BrokenBarrierError):
            gate.wait()
        return rows

    monkeypatch.setattr(services, "_locked_group", no_lock)
    monkeypatch.setattr(services, "_enrolled", counted_together)


def test_control_without_the_lock_the_group_overfills_or_the_line_breaks(
    busy_group, without_the_lock
):
    group, members, waiting, newcomers = busy_group
    outcomes = race(attempts_for(group, members, newcomers), refusal=services.GroupError, at=NOW)
    with pytest.raises(AssertionError):
        assert outcomes["crashed"] == []
        assert_intact(group, waiting)
