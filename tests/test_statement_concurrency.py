"""Asking for the same year-end statement at the same moment, on PostgreSQL
with real threads and connections: however many ask, one job is made and
each of them gets it (the partial unique constraint; the loser reads the
winner's row). The control drops the constraint and shows the race is real:
everyone saw no job waiting, and each made one."""

import threading

import pytest
from django.db import connection

from billing import statements
from billing.models import StatementJob
from billing.tests.factories import billing_ready

from .test_billing_concurrency import race

pytestmark = pytest.mark.django_db(transaction=True)
ASKERS = 4
INDEX = "statement_job_once_per_client_year"


@pytest.fixture
def all_look_first(monkeypatch):
    """Every asker looks for a waiting job before any of them makes one."""
    barrier = threading.Barrier(ASKERS)
    seen = threading.local()
    real = statements._active_job

    def looked(**kwargs):
        job = real(**kwargs)
        if not getattr(seen, "once", False):
            seen.once = True
            barrier.wait(timeout=30)
        return job

    monkeypatch.setattr(statements, "_active_job", looked)


def ask(client):
    return lambda: (
        statements.statement_job_request(
            clinic=client.clinic, client=client, year=2025, actor=client.user
        )[0].pk
    )


def test_many_asking_at_once_make_one_job_and_all_get_it(clinic_qc, client_a, all_look_first):
    billing_ready(clinic_qc)
    outcomes = race(*[ask(client_a) for _ in range(ASKERS)])
    assert outcomes["crashed"] == [] and outcomes["refused"] == []
    assert StatementJob.objects.count() == 1
    assert set(outcomes["done"]) == {StatementJob.objects.get().pk}


def test_control_without_the_constraint_each_asker_makes_a_job(clinic_qc, client_a, all_look_first):
    billing_ready(clinic_qc)
    with connection.cursor() as cursor:
        cursor.execute(f'DROP INDEX "{INDEX}"')
    try:
        outcomes = race(*[ask(client_a) for _ in range(ASKERS)])
        assert StatementJob.objects.filter(client=client_a, year=2025).count() == ASKERS
        assert len(set(outcomes["done"])) == ASKERS
    finally:
        StatementJob.objects.all().delete()
        with connection.cursor() as cursor:
            cursor.execute(
                f'CREATE UNIQUE INDEX "{INDEX}" ON billing_statementjob (clinic_id, client_id, year)'
                " WHERE client_id IS NOT NULL AND status IN ('pending', 'running')"
            )
