"""Storage for files that no URL may serve (session recordings): a folder
outside every served path, with no base URL, readable by the app's user only.
A view that checks permission streams them (e.g. sessions.views.recordings)."""

from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import FileSystemStorage, Storage
from django.utils.deconstruct import deconstructible


@deconstructible(path="clinic.storage.PrivateFileSystemStorage")
class PrivateFileSystemStorage(FileSystemStorage):
    """A FileSystemStorage without a URL. Django's falls back to MEDIA_URL
    when it has no base_url: this one has none, and url() refuses, so no
    template or admin widget can ever turn a stored name into a link."""

    def __init__(self, location=None, **kwargs):
        if not location:
            # FileSystemStorage would default to MEDIA_ROOT: never for private files.
            raise ImproperlyConfigured("PrivateFileSystemStorage needs an explicit location.")
        kwargs.pop("base_url", None)
        kwargs.setdefault("file_permissions_mode", 0o600)
        kwargs.setdefault("directory_permissions_mode", 0o700)
        super().__init__(location=location, base_url=None, **kwargs)

    @property
    def base_url(self) -> None:  # type: ignore[override]
        return None

    def url(self, name):
        raise ValueError("Private files have no URL: serve them through a view that checks access.")


def served_folders() -> list[Path]:
    """The folders whose files a URL can reach: static files (collected and
    source) and media."""
    folders = [Path(settings.STATIC_ROOT), *(Path(d) for d in settings.STATICFILES_DIRS)]
    if settings.MEDIA_ROOT:
        folders.append(Path(settings.MEDIA_ROOT))
    return [folder.resolve() for folder in folders]


def private_storage_problems(storage: Storage) -> list[str]:
    """Why a storage meant for private files is not private ([] when it is):
    a file-system location inside a served folder (or holding one), or a base
    URL that would turn names into links."""
    problems = []
    if isinstance(storage, FileSystemStorage):
        location = Path(storage.location).resolve()
        for folder in served_folders():
            if location == folder or folder in location.parents or location in folder.parents:
                problems.append(f"{location} overlaps the served folder {folder}")
        if storage.base_url:
            problems.append(f"it has a base URL ({storage.base_url})")
    elif getattr(storage, "custom_domain", None):
        # An object store with a public domain serves its objects directly.
        problems.append(f"it has a custom domain ({storage.custom_domain})")
    return problems
