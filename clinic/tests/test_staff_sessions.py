import time_machine
from django.urls import reverse
from django.utils import timezone


def test_a_staff_session_ends_after_fifteen_idle_minutes(staff_login, therapist):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        web = staff_login(therapist)
        assert web.get(reverse("staff:home")).status_code == 200
        clock.shift(14 * 60)
        assert web.get(reverse("staff:home")).status_code == 200  # activity keeps it open
        clock.shift(16 * 60)
        response = web.get(reverse("staff:home"))
        assert response["Location"].startswith(reverse("account_login"))
        assert "_auth_user_id" not in web.session


def test_a_busy_staff_session_still_ends_after_ten_hours(staff_login, therapist):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        web = staff_login(therapist)
        for _ in range(41):  # a request every 14 minutes for over nine hours
            assert web.get(reverse("staff:home")).status_code == 200
            clock.shift(14 * 60)
        clock.shift(60 * 60)
        assert web.get(reverse("staff:home"))["Location"].startswith(reverse("account_login"))


def test_clients_are_not_signed_out_for_a_pause(client, client_a):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client.force_login(client_a.user)
        client.get(reverse("portal:home"))
        clock.shift(60 * 60)
        assert client.get(reverse("portal:home")).status_code == 200
