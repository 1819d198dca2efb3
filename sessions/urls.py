from django.urls import path

from .views import record

app_name = "dosing"

urlpatterns = [
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
]
