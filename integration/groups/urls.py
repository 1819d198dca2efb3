from django.urls import path

from . import views

app_name = "groups"

urlpatterns = [
    # Staff: coordinators schedule; facilitators take attendance.
    path("staff/groups/", views.staff_list, name="staff_list"),
    path("staff/groups/new/", views.staff_new, name="staff_new"),
    path("staff/groups/<uuid:group_uuid>/", views.staff_group, name="staff_group"),
    path("staff/groups/<uuid:group_uuid>/edit/", views.staff_edit, name="staff_edit"),
    path("staff/groups/meetings/<uuid:meeting_uuid>/", views.staff_meeting, name="staff_meeting"),
    path(
        "staff/groups/meetings/<uuid:meeting_uuid>/attendance/",
        views.attendance,
        name="attendance",
    ),
    # The client's portal.
    path("portal/groups/", views.portal_list, name="portal_list"),
    path("portal/groups/<uuid:group_uuid>/enrol/", views.portal_enrol, name="portal_enrol"),
    path(
        "portal/groups/enrolments/<uuid:enrolment_uuid>/leave/",
        views.portal_leave,
        name="portal_leave",
    ),
]
