from django.urls import path

from . import views

app_name = "intake"

urlpatterns = [
    # Public: choosing a time, booking, and the links e-mailed to the person.
    path("book/", views.start, name="start"),
    path("book/interest/", views.interest, name="interest"),
    path("book/interest/confirm/<str:token>/", views.interest_confirm, name="interest_confirm"),
    path("book/confirm/<str:token>/", views.confirm, name="confirm"),
    path("book/booked/<str:token>/", views.booked, name="booked"),
    path("book/manage/<str:token>/", views.manage, name="manage"),
    path("book/<slug:clinic_slug>/", views.slots, name="slots"),
    path("book/<slug:clinic_slug>/<str:slot_key>/", views.book, name="book"),
    # Staff.
    path("staff/intake/", views.staff_day, name="staff_day"),
    path("staff/intake/calls/<uuid:call_uuid>/", views.staff_call, name="staff_call"),
]
