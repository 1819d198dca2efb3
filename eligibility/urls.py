from django.urls import path

from . import views

urlpatterns = [
    path("", views.start, name="screener"),
    path("review/", views.review, name="review"),
    path("support/", views.support, name="support"),
    path("sent/", views.submitted, name="submitted"),
    path("<slug:slug>/", views.step, name="step"),
]
