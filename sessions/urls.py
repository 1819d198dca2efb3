from django.urls import path

from .views import recordings

app_name = "dosing"

urlpatterns = [
    # Recordings of dosing sessions (clinicians of the clinic; the download
    # also needs dosing.download_recording and re-authentication).
    path(
        "staff/dosing/recordings/sessions/<uuid:session_uuid>/",
        recordings.session_recordings,
        name="recordings",
    ),
    path(
        "staff/dosing/recordings/<uuid:recording_uuid>/download/",
        recordings.recording_download,
        name="recording_download",
    ),
]
