from django.urls import path

from . import views

app_name = "eligibility"

urlpatterns = [
    # The client's screener, in the portal.
    path("portal/screening/", views.start, name="screener"),
    path("portal/screening/review/", views.review, name="review"),
    path("portal/screening/support/", views.support, name="support"),
    path("portal/screening/sent/", views.submitted, name="submitted"),
    path("portal/screening/<slug:slug>/", views.step, name="step"),
    # Staff.
    path("staff/screenings/", views.staff_screenings, name="staff_list"),
]
