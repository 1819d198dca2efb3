"""Deleting recordings: a withdrawn filming consent (the outbox row the
prepare area's withdrawal writes) or a passed retention date queues the
deletion; the worker's sweep deletes the file and records when and why,
idempotently."""

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings

from clinic.outbox import outbox_sweep
from clinic.tests.factories import client_create
from sessions import tasks
from sessions.models import DosingSettings, Recording
from sessions.services import recordings as service
from sessions.services.recordings import (
    recording_add,
    recordings_delete_due,
    recordings_queue_expired,
)

from .recording_factories import (
    course_in_dosing,
    dosing_session_for,
    filming_signed,
    filming_withdrawn,
    mp4_bytes,
    stored_files,
    upload,
)

pytestmark = pytest.mark.usefixtures("recordings_folder")
UTC = ZoneInfo("UTC")
MONTREAL = ZoneInfo("America/Toronto")


def add(session, actor, seed=1):
    recording, _created = recording_add(
        session=session, upload=upload("a.mp4", mp4_bytes(2000, seed=seed)), actor=actor
    )
    return recording


def test_a_withdrawal_queues_every_kept_recording_of_the_course_and_the_sweep_deletes_them(
    recording_session,
    recording_course,
    filming_consent,
    therapist,
    medical_practitioner,
    clinic_qc,
    recordings_folder,
    caplog,
):
    first, second = add(recording_session, therapist, 1), add(recording_session, therapist, 2)
    other_course = course_in_dosing(client_create(clinic=clinic_qc, email="other@example.com"))
    filming_signed(other_course)
    other_session = dosing_session_for(
        other_course,
        therapist=therapist,
        practitioner=medical_practitioner,
        start=recording_session.appointment.start - timedelta(hours=4),
    )
    untouched = add(other_session, therapist, 3)

    filming_withdrawn(recording_course, filming_consent)
    assert outbox_sweep().sent == 1  # the handler this area registered for the withdrawal
    for recording in (first, second):
        recording.refresh_from_db()
        assert recording.deletion_due_at is not None
        assert recording.deletion_cause == Recording.DeletionCause.CONSENT_WITHDRAWN
        assert recording.deleted_at is None
    assert len(stored_files(recordings_folder)) == 3  # queued, not yet deleted

    with caplog.at_level(logging.INFO, logger="sessions.services.recordings"):
        result = recordings_delete_due()
    assert result.deleted == 2 and result.failed == 0
    for recording in (first, second):
        recording.refresh_from_db()
        assert recording.deleted_at is not None
        assert recording.sha256 and recording.size  # the row stays: what was kept, when deleted
    assert [p.name for p in stored_files(recordings_folder)] == [untouched.storage_name]
    untouched.refresh_from_db()
    assert untouched.is_kept
    deleted_lines = [r.getMessage() for r in caplog.records if "deleted from storage" in r.message]
    assert len(deleted_lines) == 2
    assert all("consent_withdrawn" in line for line in deleted_lines)


def test_the_withdrawal_handler_leaves_deleted_and_already_queued_recordings_as_they_are(
    recording_session, recording_course, filming_consent, therapist
):
    expired = add(recording_session, therapist, 1)
    Recording.objects.filter(pk=expired.pk).update(
        deletion_due_at=datetime(2026, 1, 1, tzinfo=UTC),
        deletion_cause=Recording.DeletionCause.RETENTION,
    )
    filming_withdrawn(recording_course, filming_consent)
    outbox_sweep()
    expired.refresh_from_db()
    assert expired.deletion_cause == Recording.DeletionCause.RETENTION
    assert expired.deletion_due_at == datetime(2026, 1, 1, tzinfo=UTC)


def test_the_retention_date_is_kept_through_its_last_day_in_the_clinics_zone(
    recording_course, filming_consent, therapist, medical_practitioner
):
    DosingSettings.objects.create(clinic=recording_course.clinic, recording_retention_days=10)
    uploaded = datetime(2026, 3, 2, 20, tzinfo=MONTREAL)
    with time_machine.travel(uploaded, tick=False):
        recording_session = dosing_session_for(
            recording_course,
            therapist=therapist,
            practitioner=medical_practitioner,
            start=uploaded - timedelta(hours=4),
        )
        recording = add(recording_session, therapist)
    # Kept until 12 March (local), through the DST change of 8 March.
    assert recording.retain_until.isoformat() == "2026-03-12"
    for moment, queued in [
        (datetime(2026, 3, 12, 23, 59, tzinfo=MONTREAL), 0),  # already 13 March in UTC
        (datetime(2026, 3, 13, 0, 1, tzinfo=MONTREAL), 1),
        (datetime(2026, 3, 14, 0, 1, tzinfo=MONTREAL), 0),  # already queued: once
    ]:
        with time_machine.travel(moment, tick=False):
            assert tasks.recordings_retention() == {"queued": queued}, moment
    recording.refresh_from_db()
    assert recording.deletion_cause == Recording.DeletionCause.RETENTION
    assert recording.deletion_due_at == datetime(2026, 3, 13, 0, 1, tzinfo=MONTREAL)
    with time_machine.travel(datetime(2026, 3, 13, 0, 6, tzinfo=MONTREAL), tick=False):
        assert tasks.recordings_delete() == {"deleted": 1, "failed": 0}
    recording.refresh_from_db()
    assert recording.deleted_at == datetime(2026, 3, 13, 0, 6, tzinfo=MONTREAL)


def test_a_sweep_retried_after_the_file_is_already_gone_does_not_fail(
    recording_session, filming_consent, therapist, recordings_folder
):
    recording = add(recording_session, therapist)
    service.recordings_queue_withdrawn(course=recording_session.series.course)
    (recordings_folder / recording.storage_name).unlink()  # a sweep that died before its commit
    assert recordings_delete_due().deleted == 1
    recording.refresh_from_db()
    assert recording.deleted_at is not None
    assert recordings_delete_due().deleted == 0  # and again: nothing left to do


def test_a_storage_that_says_the_file_is_missing_is_deleted_too(
    recording_session, filming_consent, therapist, monkeypatch
):
    recording = add(recording_session, therapist)
    service.recordings_queue_withdrawn(course=recording_session.series.course)
    storage = service.recordings_storage()

    def missing(name):
        raise FileNotFoundError(name)

    monkeypatch.setattr(storage, "delete", missing)
    assert recordings_delete_due().deleted == 1
    recording.refresh_from_db()
    assert recording.deleted_at is not None


def test_a_storage_error_leaves_the_recording_queued_and_the_others_are_deleted(
    recording_session, filming_consent, therapist, monkeypatch, recordings_folder
):
    failing, fine = add(recording_session, therapist, 1), add(recording_session, therapist, 2)
    service.recordings_queue_withdrawn(course=recording_session.series.course)
    storage = service.recordings_storage()
    real_delete = storage.delete

    def delete(name):
        if name == failing.storage_name:
            raise PermissionError(name)
        real_delete(name)

    monkeypatch.setattr(storage, "delete", delete)
    result = recordings_delete_due()
    assert (result.deleted, result.failed) == (1, 1)
    failing.refresh_from_db()
    fine.refresh_from_db()
    assert failing.deleted_at is None and failing.deletion_due_at is not None
    assert fine.deleted_at is not None
    monkeypatch.setattr(storage, "delete", real_delete)
    assert recordings_delete_due().deleted == 1  # the next sweep finishes it
    assert stored_files(recordings_folder) == []


def test_nothing_is_deleted_before_it_is_queued(recording_session, filming_consent, therapist):
    recording = add(recording_session, therapist)
    assert recordings_queue_expired() == 0
    assert recordings_delete_due().deleted == 0
    recording.refresh_from_db()
    assert recording.is_kept


def test_beat_runs_both_tasks():
    from config.celery import app

    app.loader.import_default_modules()
    schedule = settings.CELERY_BEAT_SCHEDULE
    for entry in ("recordings-retention", "recordings-delete"):
        assert schedule[entry]["task"] in app.tasks
