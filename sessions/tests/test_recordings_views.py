"""The staff pages of recordings: the session's page with the upload
(streamed through the view's own upload handler), and the download behind
the dedicated permission and re-authentication, with its headers and the
access log."""

import hashlib

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth.models import Permission
from django.core.files.uploadhandler import StopUpload
from django.test import Client
from django.urls import reverse

from clinic.models import AccessLogEntry
from clinic.signals import MFA_ACTIVATED_SESSION_KEY
from sessions.forms.recordings import RecordingUploadHandler
from sessions.models import DosingSettings, Recording
from sessions.services.recordings import recording_add, recordings_queue_withdrawn

from .recording_factories import (
    PDF_BYTES,
    mp4_bytes,
    multipart_file,
    stored_files,
    upload,
)

pytestmark = pytest.mark.usefixtures("recordings_folder")
PASSWORD = "a-long-test-passphrase"


def page_url(session):
    return reverse("dosing:recordings", kwargs={"session_uuid": session.uuid})


def download_url(recording):
    return reverse("dosing:recording_download", kwargs={"recording_uuid": recording.uuid})


def signed_in(user, **client_options) -> Client:
    """A staff member signed in with two-factor authentication used."""
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, generate_totp_secret())
    browser = Client(HTTP_ACCEPT_LANGUAGE="en", **client_options)
    browser.force_login(user)
    session = browser.session
    session[MFA_ACTIVATED_SESSION_KEY] = True
    session.save()
    return browser


def reauthenticated(browser: Client) -> Client:
    browser.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    return browser


def grant_download(user):
    user.user_permissions.add(
        Permission.objects.get(codename="download_recording", content_type__app_label="dosing")
    )


def post_file(browser, session, name, content, content_type="video/mp4"):
    return browser.post(
        page_url(session),
        {"file": multipart_file(name, content, content_type)},
        follow=True,
    )


# --- The session's page and the upload ------------------------------------------------


def test_a_clinician_uploads_a_film_and_the_page_lists_it(
    recording_session, filming_consent, therapist, recordings_folder
):
    browser = signed_in(therapist)
    page = browser.get(page_url(recording_session))
    assert page.status_code == 200
    assert b'enctype="multipart/form-data"' in page.content
    content = mp4_bytes(300_000)  # larger than Django's in-memory limit would matter for
    response = post_file(browser, recording_session, "séance.mp4", content)
    assert response.redirect_chain[-1][0] == page_url(recording_session)
    assert b"The recording is stored." in response.content
    recording = Recording.objects.get()
    assert recording.sha256 == hashlib.sha256(content).hexdigest()
    assert recording.size == len(content)
    assert [p.name for p in stored_files(recordings_folder)] == [recording.storage_name]
    # Every read of the page and the upload itself are in the access log.
    entries = AccessLogEntry.objects.filter(actor=therapist)
    assert entries.filter(action="view", object_id=str(recording_session.uuid)).count() == 2
    assert entries.filter(action="change", object_id=str(recording.uuid)).count() == 1
    assert entries.filter(client=recording_session.series.course.client).count() == 3


def test_the_view_streams_through_its_own_upload_handler(
    recording_session, filming_consent, therapist, monkeypatch
):
    """The file reaches the service as the handler made it: hashed while it
    arrived, on disk (never in memory)."""
    from sessions.services import recordings as service

    seen = {}
    real_add = service.recording_add

    def spy(**kwargs):
        seen["upload"] = kwargs["upload"]
        seen["path"] = kwargs["upload"].temporary_file_path()
        return real_add(**kwargs)

    monkeypatch.setattr(service, "recording_add", spy)
    content = mp4_bytes(1000)
    post_file(signed_in(therapist), recording_session, "a.mp4", content)
    assert seen["upload"].sha256 == hashlib.sha256(content).hexdigest()
    assert seen["path"]


def test_a_double_submit_stores_once(
    recording_session, filming_consent, therapist, recordings_folder
):
    browser = signed_in(therapist)
    content = mp4_bytes(10_000)
    post_file(browser, recording_session, "a.mp4", content)
    again = post_file(browser, recording_session, "a.mp4", content)
    assert b"This recording was already stored: nothing was added." in again.content
    assert Recording.objects.count() == 1
    assert len(stored_files(recordings_folder)) == 1


def test_a_pdf_named_mp4_is_refused_with_a_clear_message(
    recording_session, filming_consent, therapist, recordings_folder
):
    response = post_file(signed_in(therapist), recording_session, "film.mp4", PDF_BYTES)
    assert response.status_code == 200
    assert b"This file is not a video we accept" in response.content
    assert b"Choose the video file" not in response.content
    assert not Recording.objects.exists()
    assert stored_files(recordings_folder) == []


def test_a_file_over_the_limit_is_stopped_with_a_clear_message(
    recording_session, filming_consent, therapist, recordings_folder
):
    DosingSettings.objects.create(
        clinic=recording_session.appointment.clinic, recording_max_megabytes=1
    )
    response = post_file(
        signed_in(therapist), recording_session, "film.mp4", mp4_bytes(1024 * 1024 + 10)
    )
    assert response.status_code == 200
    assert b"The file is larger than this clinic&#x27;s limit of 1 MB." in response.content
    assert not Recording.objects.exists()
    assert stored_files(recordings_folder) == []


def test_the_upload_handler_stops_at_the_first_chunk_over_the_limit(tmp_path, settings):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    handler = RecordingUploadHandler(max_bytes=200_000, max_megabytes=1)
    handler.new_file("file", "film.mp4", "video/mp4", None)
    chunk = mp4_bytes(65_536)
    received = 0
    with pytest.raises(StopUpload) as stopped:
        for _i in range(10):
            handler.receive_data_chunk(chunk, received)
            received += len(chunk)
    assert not stopped.value.connection_reset  # the page still answers
    assert received == 3 * 65_536  # the fourth chunk crossed the limit: nothing more written
    assert "larger than this clinic" in handler.error
    handler.file.close()
    assert list(tmp_path.iterdir()) == []  # the temporary file went with it


def test_the_upload_handler_stops_at_once_when_the_first_bytes_are_not_a_video(tmp_path, settings):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    handler = RecordingUploadHandler(max_bytes=10**9, max_megabytes=1000)
    handler.new_file("file", "film.mp4", "video/mp4", None)
    with pytest.raises(StopUpload):
        handler.receive_data_chunk(PDF_BYTES[:1024], 0)
    assert "not a video we accept" in handler.error


def test_without_the_csrf_token_nothing_is_stored(recording_session, filming_consent, therapist):
    browser = signed_in(therapist, enforce_csrf_checks=True)
    response = browser.post(
        page_url(recording_session), {"file": multipart_file("a.mp4", mp4_bytes())}
    )
    assert response.status_code == 403
    assert not Recording.objects.exists()


def test_without_filming_consent_the_page_says_so_and_a_post_is_refused(
    recording_session, therapist, recordings_folder
):
    browser = signed_in(therapist)
    page = browser.get(page_url(recording_session))
    assert b"This session cannot be recorded." in page.content
    assert b'type="file"' not in page.content
    response = post_file(browser, recording_session, "a.mp4", mp4_bytes())
    assert b"has not consented to filming" in response.content
    assert not Recording.objects.exists()
    assert stored_files(recordings_folder) == []


def test_the_whole_page_in_french(recording_session, filming_consent, therapist):
    therapist.preferred_language = "fr"
    therapist.save()
    browser = signed_in(therapist)
    page = browser.get(page_url(recording_session))
    assert "Ajouter l’enregistrement".encode() in page.content
    response = post_file(browser, recording_session, "film.mp4", PDF_BYTES)
    assert "Ce fichier n’est pas une vidéo que nous acceptons".encode() in response.content
    response = post_file(browser, recording_session, "film.mp4", mp4_bytes())
    assert "L’enregistrement est conservé.".encode() in response.content


def test_coordinators_never_reach_recordings_and_another_clinic_gets_404(
    recording_session, filming_consent, therapist, coordinator, other_clinic_therapist, client_a
):
    recording, _created = recording_add(
        session=recording_session, upload=upload("a.mp4", mp4_bytes()), actor=therapist
    )
    grant_download(coordinator)
    assert signed_in(coordinator).get(page_url(recording_session)).status_code == 403
    assert signed_in(coordinator).get(download_url(recording)).status_code == 403
    response = signed_in(coordinator).post(
        page_url(recording_session), {"file": multipart_file("b.mp4", b"")}
    )
    assert response.status_code == 403
    grant_download(other_clinic_therapist)
    assert signed_in(other_clinic_therapist).get(page_url(recording_session)).status_code == 404
    assert signed_in(other_clinic_therapist).get(download_url(recording)).status_code == 404
    client = Client()
    client.force_login(client_a.user)
    assert client.get(page_url(recording_session)).status_code == 403
    assert client.get(download_url(recording)).status_code == 403
    assert Recording.objects.count() == 1


def test_the_page_reads_in_a_fixed_number_of_queries(
    recording_session, filming_consent, therapist, django_assert_max_num_queries
):
    browser = signed_in(therapist)
    browser.get(page_url(recording_session))  # warm the recording_session and the staff navigation

    def add(count, start):
        for seed in range(start, start + count):
            recording_add(
                session=recording_session,
                upload=upload("a.mp4", mp4_bytes(600, seed=seed)),
                actor=therapist,
            )

    add(2, 0)
    with django_assert_max_num_queries(11) as small:
        browser.get(page_url(recording_session))
    add(20, 100)
    with django_assert_max_num_queries(len(small.captured_queries)):
        browser.get(page_url(recording_session))


# --- The download ------------------------------------------------------------------------


@pytest.fixture
def recording(recording_session, filming_consent, therapist):
    recording, _created = recording_add(
        session=recording_session, upload=upload("a.mp4", mp4_bytes(70_000)), actor=therapist
    )
    return recording


def test_a_practitioner_with_the_permission_downloads_after_confirming_their_password(
    recording, medical_practitioner
):
    grant_download(medical_practitioner)
    browser = signed_in(medical_practitioner)
    asked = browser.get(download_url(recording))
    assert asked.status_code == 302
    assert asked["Location"].startswith(reverse("account_reauthenticate"))
    assert not AccessLogEntry.objects.filter(action="download").exists()

    response = reauthenticated(browser).get(download_url(recording))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == mp4_bytes(70_000)
    assert response["Content-Type"] == "video/mp4"
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="recording-' in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert int(response["Content-Length"]) == 70_000
    entry = AccessLogEntry.objects.get(action="download")
    assert entry.actor == medical_practitioner
    assert entry.object_id == str(recording.uuid)
    assert entry.client == recording.session.series.course.client


def test_the_download_sets_its_own_headers_whatever_the_middleware(
    recording, medical_practitioner, settings
):
    """Not left to the site-wide middleware: without PrivateCacheMiddleware
    and SecurityMiddleware's nosniff, the film is still never cached or sniffed."""
    settings.MIDDLEWARE = [
        m for m in settings.MIDDLEWARE if m != "clinic.middleware.PrivateCacheMiddleware"
    ]
    settings.SECURE_CONTENT_TYPE_NOSNIFF = False
    grant_download(medical_practitioner)
    response = reauthenticated(signed_in(medical_practitioner)).get(download_url(recording))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert response["X-Content-Type-Options"] == "nosniff"
    b"".join(response.streaming_content)  # read to its end, as a server does (closes the file)


def test_without_the_permission_a_clinician_cannot_download(
    recording, therapist, medical_practitioner
):
    for person in (therapist, medical_practitioner):
        browser = reauthenticated(signed_in(person))
        assert browser.get(download_url(recording)).status_code == 403
        page = browser.get(page_url(recording.session))
        assert (
            reverse("dosing:recording_download", args=[recording.uuid]).encode() not in page.content
        )
    assert not AccessLogEntry.objects.filter(action="download").exists()


def test_a_superuser_clinician_needs_no_grant(recording, medical_practitioner):
    medical_practitioner.is_superuser = True
    medical_practitioner.save()
    response = reauthenticated(signed_in(medical_practitioner)).get(download_url(recording))
    assert response.status_code == 200
    b"".join(response.streaming_content)  # read to its end, as a server does (closes the file)


def test_once_queued_for_deletion_the_film_cannot_be_downloaded(recording, medical_practitioner):
    grant_download(medical_practitioner)
    browser = reauthenticated(signed_in(medical_practitioner))
    recordings_queue_withdrawn(course=recording.session.series.course)
    assert browser.get(download_url(recording)).status_code == 404
    page = browser.get(page_url(recording.session))
    assert b"Being deleted (filming consent withdrawn)" in page.content


def test_a_file_missing_from_storage_is_a_404_not_a_server_error(
    recording, medical_practitioner, recordings_folder
):
    grant_download(medical_practitioner)
    (recordings_folder / recording.storage_name).unlink()
    response = reauthenticated(signed_in(medical_practitioner)).get(download_url(recording))
    assert response.status_code == 404
    assert not AccessLogEntry.objects.filter(action="download").exists()


def test_recordings_are_never_served_under_static_or_media(recording, therapist):
    browser = signed_in(therapist)
    name = recording.storage_name
    for path in (
        f"/media/{name}",
        f"/static/{name}",
        f"/media/private/recordings/{name}",
        f"/static/../private/recordings/{name}",
        f"/media/../private/recordings/{name}",
    ):
        response = browser.get(path)
        assert response.status_code == 404, path
    assert Client().get(f"/media/{name}").status_code in (302, 404)
