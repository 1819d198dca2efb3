"""The project's URL wiring: the core's pages, each stage app's (each
declares its own `app_name`), allauth and the admin. The only module besides
the seeds that knows every app."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("eligibility.urls")),
    path("", include("clinic.urls")),
    path("", include("intake.urls")),
    path("", include("sessions.urls")),
    path("", include("integration.groups.urls")),
    path("", include("integration.measures.urls")),
    path("", include("integration.reconnect.urls")),
    path("", include("integration.individual.urls")),
    path("", include("billing.urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
]
