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


def test_signing_out_on_one_device_signs_out_the_others(therapist):
    from django.test import Client

    from clinic.tests.test_mfa_gate import PASSWORD

    laptop, phone = Client(), Client()
    for device in (laptop, phone):
        device.post(reverse("account_login"), {"login": therapist.email, "password": PASSWORD})
        assert "_auth_user_id" in device.session
    laptop.post(reverse("account_logout"))
    assert phone.get(reverse("staff:home"))["Location"].startswith(reverse("account_login"))


def test_changing_the_password_signs_out_the_other_devices(client_a):
    from django.test import Client

    from clinic.tests.test_mfa_gate import PASSWORD

    laptop, phone = Client(), Client()
    for device in (laptop, phone):
        device.post(reverse("account_login"), {"login": client_a.user.email, "password": PASSWORD})
    laptop.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    laptop.post(
        reverse("account_change_password"),
        {
            "oldpassword": PASSWORD,
            "password1": "a-new-long-passphrase-2",
            "password2": "a-new-long-passphrase-2",
        },
    )
    assert laptop.get(reverse("portal:home")).status_code == 200
    assert phone.get(reverse("portal:home"))["Location"].startswith(reverse("account_login"))
