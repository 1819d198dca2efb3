"""System checks of the prepare and dosing app's configuration."""

from django.core.checks import Error, register


@register("security")
def recordings_storage_is_private(app_configs, **kwargs):
    """Session recordings must never be reachable by URL: their storage is
    outside every served folder and has no base URL (clinic.storage)."""
    from django.core.files.storage import InvalidStorageError, storages

    from clinic.storage import private_storage_problems

    try:
        storage = storages["recordings"]
    except InvalidStorageError:
        return [
            Error(
                'STORAGES has no "recordings" entry.',
                hint="Session recordings need a private storage of their own (README, Recordings).",
                id="dosing.E001",
            )
        ]
    return [
        Error(
            f"The recordings storage is not private: {problem}.",
            hint="Keep recordings outside STATIC_ROOT, STATICFILES_DIRS and MEDIA_ROOT, "
            "with no base URL (RECORDINGS_ROOT).",
            id="dosing.E002",
        )
        for problem in private_storage_problems(storage)
    ]
