from django.urls import path

from . import views

app_name = "individual"

urlpatterns = [
    path("portal/integration/sessions/", views.portal, name="portal"),
    path(
        "portal/integration/sessions/<uuid:session_uuid>/book/",
        views.portal_book,
        name="portal_book",
    ),
    path(
        "portal/integration/sessions/<uuid:session_uuid>/cancel/",
        views.portal_cancel,
        name="portal_cancel",
    ),
    path(
        "staff/integration/courses/<uuid:course_uuid>/sessions/",
        views.staff_course,
        name="staff_course",
    ),
    path(
        "staff/integration/sessions/<uuid:session_uuid>/book/",
        views.staff_book,
        name="staff_book",
    ),
    path(
        "staff/integration/sessions/<uuid:session_uuid>/cancel/",
        views.staff_cancel,
        name="staff_cancel",
    ),
]
