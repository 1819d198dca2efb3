"""A double click on "Sign" sends two requests at once: the course row lock
makes the second one find the first one's signature, so one is recorded.
The control test takes the lock away and shows the race is real: both
requests see no signature and both write one.

Both requests are made to meet right after their check (a barrier), so
the race happens every time; with the lock the second request waits at the
lock instead, and the barrier gives up after a moment."""

import contextlib
import threading

import pytest
from django.db import connection

from clinic.models import Course, Stage
from clinic.tests.factories import client_create
from sessions import content
from sessions.models import Consent
from sessions.selectors.prepare import document_in_force
from sessions.services import prepare as services

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def course(clinic_qc):
    content.install()
    client = client_create(clinic=clinic_qc, first_name="Léa", last_name="Caron")
    Course.objects.filter(client=client).update(stage=Stage.PREPARE)
    return Course.objects.get(client=client)


def two_signatures_at_once(course, monkeypatch) -> list:
    meet = threading.Barrier(2, timeout=2)
    checked = services.treatment_consent_current

    def check_then_meet(*args, **kwargs):
        found = checked(*args, **kwargs)
        # With the lock the other request waits there: the barrier gives up.
        with contextlib.suppress(threading.BrokenBarrierError):
            meet.wait()
        return found

    monkeypatch.setattr(services, "treatment_consent_current", check_then_meet)
    document = document_in_force(kind="treatment", language="fr")
    errors = []

    def sign():
        try:
            services.consent_sign(
                course=course,
                kind="treatment",
                language="fr",
                shown_sha256=document.sha256,
                typed_name="Léa Caron",
                agreed=True,
            )
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sign) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    return errors


def test_two_signatures_at_once_record_one(course, monkeypatch):
    errors = two_signatures_at_once(course, monkeypatch)
    assert not errors
    assert Consent.objects.filter(course=course).count() == 1


def test_control_without_the_course_lock_both_signatures_are_written(course, monkeypatch):
    monkeypatch.setattr(
        services,
        "_lock",
        lambda course: Course.objects.select_related("client__user").get(pk=course.pk),
    )
    errors = two_signatures_at_once(course, monkeypatch)
    assert not errors
    assert Consent.objects.filter(course=course).count() == 2
