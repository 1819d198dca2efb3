# The recordings' fixtures (a course in dosing, its session, a filming consent, a private folder).
from .recording_factories import (  # noqa: F401
    filming_consent,
    recording_course,
    recording_session,
    recordings_folder,
)
