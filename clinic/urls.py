from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from eligibility import urls as eligibility_urls
from eligibility import views as eligibility_views
from intake import urls as intake_urls

from . import views

# The admin signs in through allauth only, so staff pass the same login,
# rate limits and two-factor steps as everywhere else: its own login form
# (no rate limit, no MFA step) is never shown.
admin.site.login = views.admin_login
admin.site.site_header = _("Ketamine-Assisted Therapy Clinic")

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

intake_patterns = (
    [
        path("book/", include(intake_urls.public_urlpatterns)),
        path("staff/intake/", include(intake_urls.staff_urlpatterns)),
    ],
    "intake",
)

eligibility_patterns = (
    [
        path("portal/screening/", include(eligibility_urls.urlpatterns)),
        path("staff/screenings/", eligibility_views.staff_screenings, name="staff_list"),
    ],
    "eligibility",
)

urlpatterns = [
    path("", include(eligibility_patterns)),
    path("", include(public_patterns)),
    path("", include(intake_patterns)),
    path(
        "accounts/activate/<str:uidb64>/<str:token>/",
        views.account_activate,
        name="account_activate",
    ),
    path("portal/", include(portal_patterns)),
    path("staff/", include(staff_patterns)),
    path("welcome/", views.home_after_login, name="home_after_login"),
    path("accounts/", include("allauth.urls")),
    path("i18n/setlang/", views.language_set, name="set_language"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
