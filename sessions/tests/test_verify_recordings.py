"""manage.py verify_recordings: every kept recording re-read and compared
with the SHA-256 and size taken at upload; missing and altered files
reported, with a non-zero exit code."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from sessions.models import Recording
from sessions.services.recordings import recording_add

from .recording_factories import (
    mp4_bytes,
    upload,
)

pytestmark = pytest.mark.usefixtures("recordings_folder")


def add(session, actor, seed):
    recording, _created = recording_add(
        session=session, upload=upload("a.mp4", mp4_bytes(5000, seed=seed)), actor=actor
    )
    return recording


def verify():
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_recordings", stdout=out, stderr=err)
    except CommandError as exc:
        return False, out.getvalue(), err.getvalue(), str(exc)
    return True, out.getvalue(), err.getvalue(), ""


def test_every_intact_recording_passes(recording_session, filming_consent, therapist):
    add(recording_session, therapist, 1)
    add(recording_session, therapist, 2)
    ok, out, err, _error = verify()
    assert ok
    assert "Every kept recording is intact: 2 checked." in out
    assert err == ""


def test_an_altered_a_cut_and_a_missing_file_are_reported_with_a_failing_exit(
    recording_session, filming_consent, therapist, recordings_folder
):
    intact = add(recording_session, therapist, 1)
    altered = add(recording_session, therapist, 2)
    cut = add(recording_session, therapist, 3)
    missing = add(recording_session, therapist, 4)
    gone = add(recording_session, therapist, 5)  # deleted on purpose: not checked
    Recording.objects.filter(pk=gone.pk).update(
        deletion_due_at=timezone.now() - timedelta(hours=1),
        deletion_cause=Recording.DeletionCause.RETENTION,
        deleted_at=timezone.now(),
    )
    (recordings_folder / gone.storage_name).unlink()

    path = recordings_folder / altered.storage_name
    data = bytearray(path.read_bytes())
    data[4000] ^= 0xFF  # one byte changed, same size
    path.write_bytes(bytes(data))
    (recordings_folder / cut.storage_name).write_bytes(mp4_bytes(5000, seed=3)[:4000])
    (recordings_folder / missing.storage_name).unlink()

    ok, _out, err, error = verify()
    assert not ok
    assert error == "3 of 4 kept recordings are missing or altered."
    lines = err.splitlines()
    assert (
        f"MISSING: recording {missing.uuid} (stored as {missing.storage_name}) is not in storage."
        in lines
    )
    assert any(
        line.startswith(f"ALTERED: recording {altered.uuid}") and "SHA-256" in line
        for line in lines
    )
    assert (
        f"ALTERED: recording {cut.uuid} (stored as {cut.storage_name}) has 4000 bytes instead of 5000."
        in lines
    )
    assert str(intact.uuid) not in err
    assert str(gone.uuid) not in err


def test_the_command_exits_non_zero_from_the_shell(
    recording_session, filming_consent, therapist, recordings_folder
):
    """What cron or a monitor sees: the exit code."""
    from django.core.management import execute_from_command_line

    recording = add(recording_session, therapist, 1)
    (recordings_folder / recording.storage_name).unlink()
    with pytest.raises(SystemExit) as exited:
        execute_from_command_line(["manage.py", "verify_recordings"])
    assert exited.value.code == 1
