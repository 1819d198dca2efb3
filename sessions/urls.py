from django.urls import path

from .views import board

app_name = "dosing"

urlpatterns = [
    # The room board and scheduling (staff).
    path("staff/board/", board.day, name="board"),
    path("staff/board/week/", board.week, name="board_week"),
    path("staff/board/new/", board.booking_new, name="booking_new"),
    path("staff/board/check/", board.booking_check, name="booking_check"),
    path("staff/board/clients/", board.client_options, name="client_options"),
    path(
        "staff/board/appointments/<uuid:appointment_uuid>/",
        board.appointment_detail,
        name="appointment",
    ),
    path(
        "staff/board/appointments/<uuid:appointment_uuid>/move/",
        board.appointment_move,
        name="appointment_move",
    ),
    path(
        "staff/board/appointments/<uuid:appointment_uuid>/cancel/",
        board.appointment_cancel,
        name="appointment_cancel",
    ),
]
