"""The core's own pages: the public site, the client portal's home and data
pages, the staff course pages, and the account and health endpoints. Each
group is its own namespace (public, portal, staff); config/urls.py wires
them beside the stage apps."""

from django.urls import include, path

from . import views

public_patterns = (
    [
        path("", views.home, name="home"),
        path("program/", views.program, name="program"),
        path("conditions/", views.conditions, name="conditions"),
        path("team/", views.team, name="team"),
        path("faq/", views.faq, name="faq"),
    ],
    "public",
)

portal_patterns = (
    [
        path("", views.portal_home, name="home"),
        path("verify-email/", views.verify_email_needed, name="verify_email"),
        path("my-data/", views.my_data, name="my_data"),
        path("my-data/download/", views.my_data_download, name="my_data_download"),
        path("my-data/summary/", views.my_data_summary, name="my_data_summary"),
    ],
    "portal",
)

staff_patterns = (
    [
        path("", views.staff_home, name="home"),
        path("courses/<uuid:course_uuid>/", views.staff_course, name="course"),
    ],
    "staff",
)

urlpatterns = [
    path("", include(public_patterns)),
    path("portal/", include(portal_patterns)),
    path("staff/", include(staff_patterns)),
    path(
        "accounts/activate/<str:uidb64>/<str:token>/",
        views.account_activate,
        name="account_activate",
    ),
    # The two-factor invitation e-mailed to a staff member (the fixed paths
    # before the token's).
    path(
        "accounts/invitation/set-up/",
        views.staff_invitation_enrol,
        name="staff_invitation_enrol",
    ),
    path(
        "accounts/invitation/recovery-codes/",
        views.staff_invitation_done,
        name="staff_invitation_done",
    ),
    path(
        "accounts/invitation/needed/",
        views.staff_invitation_needed,
        name="staff_invitation_needed",
    ),
    path("accounts/invitation/<str:token>/", views.staff_invitation, name="staff_invitation"),
    path("welcome/", views.home_after_login, name="home_after_login"),
    path("i18n/setlang/", views.language_set, name="set_language"),
    path("healthz", views.healthz, name="healthz"),
    path("robots.txt", views.robots_txt, name="robots_txt"),
]
