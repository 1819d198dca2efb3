"""A medical practitioner, in a real browser, in English and in French:
uploads the film of a dosing session (a PDF renamed .mp4 is refused first),
then downloads it, confirming their password first."""

import re
from pathlib import Path

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from clinic.models import AccessLogEntry
from clinic.signals import MFA_ACTIVATED_SESSION_KEY
from sessions.models import Recording
from sessions.tests import recording_factories
from sessions.tests.recording_factories import (
    PDF_BYTES,
    course_in_dosing,
    dosing_session_for,
    filming_signed,
    mp4_bytes,
    stored_files,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("recordings_folder"),
]
PASSWORD = "a-long-test-passphrase"
# The recordings' private folder, in this test's temporary directory.
recordings_folder = recording_factories.recordings_folder

TEXT = {
    "en": {
        "heading": "Recordings of",
        "upload": "Upload",
        "stored": "The recording is stored.",
        "not_video": "This file is not a video we accept",
        "download": "Download",
    },
    "fr": {
        "heading": "Enregistrements de la séance de dosage",
        "upload": "Téléverser",
        "stored": "L’enregistrement est conservé.",
        "not_video": "Ce fichier n’est pas une vidéo que nous acceptons",
        "download": "Télécharger",
    },
}


def signed_in_context(browser, live_server, user, locale):
    """A browser signed in as this staff member, with two-factor used (the
    sign-in itself is tested in test_browser_journey)."""
    TOTP.activate(user, generate_totp_secret())
    django_client = Client()
    django_client.force_login(user)
    session = django_client.session
    session[MFA_ACTIVATED_SESSION_KEY] = True
    session.save()
    context = browser.new_context(locale=f"{locale}-CA", accept_downloads=True)
    context.add_cookies(
        [
            {
                "name": "sessionid",
                "value": django_client.cookies["sessionid"].value,
                "url": live_server.url,
            }
        ]
    )
    return context


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_practitioner_uploads_a_film_and_downloads_it_after_confirming_their_password(
    live_server,
    browser,
    client_a,
    therapist,
    medical_practitioner,
    recordings_folder,
    language,
):
    text = TEXT[language]
    medical_practitioner.preferred_language = language
    medical_practitioner.save()
    medical_practitioner.user_permissions.add(
        Permission.objects.get(codename="download_recording", content_type__app_label="dosing")
    )
    course = course_in_dosing(client_a)
    filming_signed(course)
    session = dosing_session_for(course, therapist=therapist, practitioner=medical_practitioner)
    url = live_server.url + reverse("dosing:recordings", args=[session.uuid])

    context = signed_in_context(browser, live_server, medical_practitioner, language)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(url)
        expect(page.locator("html")).to_have_attribute("lang", language)
        expect(page.get_by_role("heading", level=1)).to_contain_text(text["heading"])
        results = Axe().run(page)
        serious = [
            v["id"]
            for v in results.response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert not serious, serious

        # A PDF renamed .mp4: refused with the reason, nothing kept.
        page.locator("input[type=file]").set_input_files(
            {"name": "notes.mp4", "mimeType": "video/mp4", "buffer": PDF_BYTES}
        )
        page.get_by_role("button", name=text["upload"]).click()
        expect(page.get_by_text(text["not_video"])).to_be_visible()
        assert not Recording.objects.exists()

        film = mp4_bytes(300_000)
        page.locator("input[type=file]").set_input_files(
            {"name": "séance.mp4", "mimeType": "video/mp4", "buffer": film}
        )
        page.get_by_role("button", name=text["upload"]).click()
        expect(page.get_by_text(text["stored"])).to_be_visible()
        recording = Recording.objects.get()
        assert len(stored_files(recordings_folder)) == 1

        # Watching it: the password again, then the file arrives as a download.
        page.get_by_role("link", name=text["download"]).click()
        expect(page).to_have_url(re.compile(r"/accounts/reauthenticate/"))
        assert not AccessLogEntry.objects.filter(action="download").exists()
        page.locator("input[name=password]").fill(PASSWORD)
        with page.expect_download() as arrival:
            page.locator("form:has(input[name=password]) button[type=submit]").click()
        download = arrival.value
        assert download.suggested_filename.startswith("recording-")
        assert download.suggested_filename.endswith(".mp4")
        assert Path(download.path()).read_bytes() == film
        entry = AccessLogEntry.objects.get(action="download")
        assert entry.actor == medical_practitioner
        assert entry.object_id == str(recording.uuid)
    finally:
        context.close()
