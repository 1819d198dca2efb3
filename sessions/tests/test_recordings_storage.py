"""Where recordings are kept: STORAGES["recordings"], a private storage of
their own, outside every served folder and without a URL (and a system
check that says so when it is not)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import storages

from clinic.storage import PrivateFileSystemStorage, served_folders
from sessions.checks import recordings_storage_is_private

BASE_DIR = Path(settings.BASE_DIR)


def test_the_configured_storage_is_a_private_folder_outside_every_served_path():
    storage = storages["recordings"]
    assert isinstance(storage, PrivateFileSystemStorage)
    location = Path(storage.location).resolve()
    assert location == (Path(settings.VAR_DIR) / "private" / "recordings").resolve()
    for served in [settings.STATIC_ROOT, *settings.STATICFILES_DIRS, settings.MEDIA_ROOT]:
        served = Path(served).resolve()
        assert served not in location.parents and location != served
        assert location not in served.parents
    assert storage.base_url is None
    with pytest.raises(ValueError):
        storage.url("anything.mp4")
    assert recordings_storage_is_private(None) == []


def test_private_files_are_readable_by_their_owner_only(tmp_path):
    storage = PrivateFileSystemStorage(location=tmp_path / "private")
    name = storage.save("a/b.mp4", ContentFile(b"film"))
    assert (tmp_path / "private" / name).stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "private" / "a").stat().st_mode & 0o777 == 0o700


def test_a_private_storage_needs_a_location_of_its_own():
    with pytest.raises(ImproperlyConfigured):
        PrivateFileSystemStorage()  # FileSystemStorage would fall back to MEDIA_ROOT


@pytest.mark.parametrize(
    "location",
    [
        lambda: settings.MEDIA_ROOT,
        lambda: Path(settings.MEDIA_ROOT) / "recordings",
        lambda: Path(settings.STATIC_ROOT) / "recordings",
        lambda: Path(settings.STATICFILES_DIRS[0]) / "recordings",
        lambda: Path(settings.MEDIA_ROOT).parent,  # holds the media folder
    ],
)
def test_the_system_check_refuses_a_location_under_a_served_folder(settings, location):
    settings.STORAGES = {
        **settings.STORAGES,
        "recordings": {
            "BACKEND": "clinic.storage.PrivateFileSystemStorage",
            "OPTIONS": {"location": str(location())},
        },
    }
    errors = recordings_storage_is_private(None)
    assert [error.id for error in errors] == ["dosing.E002"] * len(errors) and errors


def test_the_system_check_refuses_a_storage_with_a_url(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "recordings": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path), "base_url": "/films/"},
        },
    }
    (error,) = recordings_storage_is_private(None)
    assert "base URL" in error.msg


def test_the_system_check_wants_a_recordings_storage(settings):
    settings.STORAGES = {k: v for k, v in settings.STORAGES.items() if k != "recordings"}
    (error,) = recordings_storage_is_private(None)
    assert error.id == "dosing.E001"


def test_served_folders_are_static_and_media():
    assert Path(settings.MEDIA_ROOT).resolve() in served_folders()
    assert (BASE_DIR / "static").resolve() in served_folders()


def _settings_under(env: dict) -> subprocess.CompletedProcess:
    code = (
        "import json, django; from django.conf import settings; django.setup();"
        "print(json.dumps(settings.STORAGES['recordings']))"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("RECORDINGS_")},
            "DJANGO_SETTINGS_MODULE": "config.settings",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_an_object_store_is_configured_from_the_environment():
    run = _settings_under(
        {
            "RECORDINGS_STORAGE": "s3",
            "RECORDINGS_S3_BUCKET": "clinic-recordings",
            "RECORDINGS_S3_ENDPOINT_URL": "https://s3.ca-central-1.example",
            "RECORDINGS_S3_REGION": "ca-central-1",
            "RECORDINGS_S3_ACCESS_KEY_ID": "key-id",
            "RECORDINGS_S3_SECRET_ACCESS_KEY": "secret",
            "RECORDINGS_S3_ENCRYPTION": "AES256",
        }
    )
    assert run.returncode == 0, run.stderr
    storage = json.loads(run.stdout)
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    options = storage["OPTIONS"]
    assert options["bucket_name"] == "clinic-recordings"
    assert options["endpoint_url"] == "https://s3.ca-central-1.example"
    assert options["region_name"] == "ca-central-1"
    assert options["access_key"] == "key-id" and options["secret_key"] == "secret"
    assert options["location"] == "recordings"
    assert options["file_overwrite"] is False
    assert options["default_acl"] is None
    assert options["object_parameters"] == {"ServerSideEncryption": "AES256"}


def test_an_object_store_without_its_bucket_or_an_unknown_kind_does_not_start():
    assert _settings_under({"RECORDINGS_STORAGE": "s3"}).returncode != 0
    assert _settings_under({"RECORDINGS_STORAGE": "ftp"}).returncode != 0
