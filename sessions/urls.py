from django.urls import path

from .views import board, portal, record, recordings

app_name = "dosing"

urlpatterns = [
    # The client's preparation, in the portal.
    path("portal/preparation/", portal.portal, name="portal"),
    path("portal/preparation/modules/<slug:module_slug>/", portal.module, name="module"),
    path("portal/preparation/consents/<str:kind>/", portal.consent, name="consent"),
    path(
        "portal/preparation/filming/withdraw/",
        portal.filming_withdraw,
        name="filming_withdraw",
    ),
    path(
        "portal/preparation/answers/<uuid:consent_uuid>/",
        portal.consent_answer,
        name="consent_answer",
    ),
    path("portal/preparation/preferences/", portal.preferences, name="preferences"),
    # Staff.
    path(
        "staff/preparation/<uuid:course_uuid>/",
        portal.staff_preparation,
        name="staff_preparation",
    ),
    # The session record (clinicians of the clinic; every read logged).
    path("staff/dosing/records/", record.record_day, name="record_day"),
    path(
        "staff/dosing/records/courses/<uuid:course_uuid>/",
        record.course_page,
        name="record_course",
    ),
    path(
        "staff/dosing/records/sessions/<uuid:session_uuid>/",
        record.session_page,
        name="record_session",
    ),
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
    # The room board and scheduling (staff).
    path("staff/board/", board.day, name="board"),
    path("staff/board/week/", board.week, name="board_week"),
    path("staff/board/new/", board.booking_new, name="booking_new"),
    path("staff/board/check/", board.booking_check, name="booking_check"),
    path("staff/board/clients/", board.client_options, name="client_options"),
    path(
        "staff/board/appointments/<uuid:appointment_uuid>/",
        board.appointment_detail,
        name="appointment",
    ),
    path(
        "staff/board/appointments/<uuid:appointment_uuid>/move/",
        board.appointment_move,
        name="appointment_move",
    ),
    path(
        "staff/board/appointments/<uuid:appointment_uuid>/cancel/",
        board.appointment_cancel,
        name="appointment_cancel",
    ),
]
