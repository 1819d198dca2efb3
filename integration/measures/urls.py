from django.urls import path

from . import views

app_name = "measures"

urlpatterns = [
    path("portal/questionnaires/", views.portal, name="portal"),
    path("portal/questionnaires/support/", views.support, name="support"),
    path("portal/questionnaires/<uuid:invitation_uuid>/", views.answer, name="answer"),
    path("staff/measures/", views.staff_list, name="staff_list"),
    path("staff/measures/clients/<uuid:client_uuid>/", views.staff_chart, name="staff_chart"),
]
