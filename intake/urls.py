from django.urls import path

from . import views

public_urlpatterns = [
    path("", views.start, name="start"),
    path("interest/", views.interest, name="interest"),
    path("confirm/<str:token>/", views.confirm, name="confirm"),
    path("booked/<str:token>/", views.booked, name="booked"),
    path("manage/<str:token>/", views.manage, name="manage"),
    path("<slug:clinic_slug>/", views.slots, name="slots"),
    path("<slug:clinic_slug>/<str:slot_key>/", views.book, name="book"),
]

staff_urlpatterns = [
    path("", views.staff_day, name="staff_day"),
    path("calls/<uuid:call_uuid>/", views.staff_call, name="staff_call"),
]
