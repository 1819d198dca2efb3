from django.urls import path

from . import views

app_name = "reconnect"

urlpatterns = [
    path("portal/reconnect/", views.portal, name="portal"),
    path("staff/integration/courses/<uuid:course_uuid>/plan/", views.plan_close, name="plan"),
]
