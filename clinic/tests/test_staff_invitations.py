"""Staff get their authenticator only through an e-mailed, single-use
invitation: a staff password alone opens nothing (issue 10, item 7)."""

import re
import threading
import time
from datetime import timedelta

import pytest
import time_machine
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.contrib.admin.models import LogEntry
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clinic import invitations
from clinic.invitations import InvitationError, staff_invitation_issue, staff_invitation_redeem
from clinic.models import OutboxMessage, StaffInvitation, StaffProfile, StaffRole
from clinic.outbox import outbox_sweep
from clinic.tests.factories import UserFactory, staff_create

PASSWORD = "a-long-test-passphrase"
TOTP_IN_SESSION = "clinic_invitation_totp"  # where the page keeps the key it shows


def code_for(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def browser() -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="en")


def sign_in_with_password(web: Client, user) -> None:
    web.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert "_auth_user_id" in web.session


def open_and_sign_in(web: Client, token: str, password: str = PASSWORD):
    """Open the link; sign in on the invitation page if not signed in yet."""
    response = web.get(reverse("staff_invitation", args=[token]))
    assert response.status_code == 302, response.content.decode()
    assert response["Location"] == reverse("staff_invitation_enrol")
    if "_auth_user_id" not in web.session:
        page = web.get(reverse("staff_invitation_enrol"))
        assert "password" in page.content.decode().lower()
        return web.post(reverse("staff_invitation_enrol"), {"password": password})
    return response


def enrol(web: Client, token: str):
    """The whole invitation: open, sign in, scan, enter the code. Returns
    the answer to the code and the secret the page showed."""
    open_and_sign_in(web, token)
    page = web.get(reverse("staff_invitation_enrol"))
    assert page.status_code == 200
    secret = web.session[TOTP_IN_SESSION]
    assert secret in page.content.decode()  # the key to type in, beside the QR code
    return web.post(reverse("staff_invitation_enrol"), {"code": code_for(secret)}), secret


@pytest.fixture(autouse=True)
def still_clock():
    """A TOTP code changes every 30 s and allauth takes only the current one:
    a code computed just before a boundary and posted just after would fail
    by chance. The clock stands still; tests that need time to pass move it."""
    with time_machine.travel(timezone.now(), tick=False):
        yield


@pytest.fixture
def superuser(db):
    return UserFactory(email="root@example.com", is_staff=True, is_superuser=True)


# --- The takeover: a password and no authenticator --------------------------------

# Every page a signed-in person could use to do harm: the staff pages and the
# admin, allauth's own enrolment, regeneration and removal pages, the account's
# e-mail addresses and password, the list of sessions.
TAKEOVER_PATHS = [
    "/staff/",
    "/admin/",
    "/admin/clinic/clientprofile/",
    reverse("mfa_activate_totp"),
    reverse("mfa_deactivate_totp"),
    reverse("mfa_generate_recovery_codes"),
    reverse("mfa_view_recovery_codes"),
    reverse("mfa_index"),
    reverse("account_email"),
    reverse("account_change_password"),
    reverse("account_reauthenticate"),
    reverse("usersessions_list"),
    reverse("home_after_login"),
    reverse("portal:home"),
]


@pytest.mark.parametrize("path", TAKEOVER_PATHS)
def test_a_staff_password_without_an_authenticator_reaches_nothing(client, therapist, path):
    sign_in_with_password(client, therapist)
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == reverse("staff_invitation_needed")


def test_the_person_is_told_to_ask_the_privacy_officer(client, therapist):
    sign_in_with_password(client, therapist)
    page = client.get(reverse("staff_invitation_needed"), follow=True)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Your account needs an invitation" in text
    assert "Ask the privacy officer" in text
    assert reverse("mfa_activate_totp") not in text


def test_posting_to_allauths_enrolment_page_enrols_nothing(client, therapist):
    sign_in_with_password(client, therapist)
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    secret = generate_totp_secret()
    session = client.session
    session["mfa.totp.secret"] = secret  # as if the page had been shown
    session.save()
    response = client.post(reverse("mfa_activate_totp"), {"code": code_for(secret)})
    assert response["Location"] == reverse("staff_invitation_needed")
    assert not Authenticator.objects.filter(user=therapist).exists()


def test_the_accounts_address_cannot_be_changed_before_an_invitation(client, therapist):
    """Or the invitation would go to the address of whoever has the password."""
    sign_in_with_password(client, therapist)
    client.post(reverse("account_email"), {"action_add": "", "email": "thief@example.com"})
    assert not EmailAddress.objects.filter(email="thief@example.com").exists()


def test_signing_out_stays_open(client, therapist):
    sign_in_with_password(client, therapist)
    client.post(reverse("account_logout"))
    assert "_auth_user_id" not in client.session


def test_allauths_pages_stay_closed_to_staff_who_have_an_authenticator(staff_login, therapist):
    """Removing or replacing a staff authenticator also goes through an invitation."""
    web = staff_login(therapist)
    for name in ("mfa_activate_totp", "mfa_deactivate_totp", "mfa_generate_recovery_codes"):
        assert web.get(reverse(name))["Location"] == reverse("staff_invitation_needed")
    web.post(reverse("mfa_deactivate_totp"))
    assert Authenticator.objects.filter(user=therapist, type=Authenticator.Type.TOTP).exists()
    page = web.get(reverse("staff_invitation_needed"))
    assert "Your authenticator is changed by invitation" in page.content.decode()


def test_clients_keep_allauths_own_pages(client, client_a):
    """Two-factor authentication is the clients' choice: the gate is for staff."""
    sign_in_with_password(client, client_a.user)
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    assert client.get(reverse("mfa_activate_totp")).status_code == 200
    assert client.get(reverse("staff_invitation_needed"))["Location"] == reverse("home_after_login")


# --- Using an invitation -------------------------------------------------------------


def test_an_invitation_enrols_the_staff_member_and_opens_their_pages(
    client, therapist, privacy_officer
):
    _invitation, token = staff_invitation_issue(user=therapist, actor=privacy_officer)
    response, secret = enrol(client, token)
    assert response["Location"] == reverse("staff_invitation_done")
    done = client.get(reverse("staff_invitation_done"))
    codes = re.findall(r"<li>([0-9a-z]{8})</li>", done.content.decode())
    assert len(codes) == 10
    assert client.get("/staff/").status_code == 200
    totp = Authenticator.objects.get(user=therapist, type=Authenticator.Type.TOTP)
    assert TOTP(totp).validate_code(code_for(secret))
    invitation = StaffInvitation.objects.get()
    assert invitation.used_at is not None


def test_an_invitation_works_once(client, therapist, privacy_officer):
    _invitation, token = staff_invitation_issue(user=therapist, actor=privacy_officer)
    enrol(client, token)
    again = browser().get(reverse("staff_invitation", args=[token]))
    assert again.status_code == 400
    assert "already been used" in again.content.decode()
    assert Authenticator.objects.filter(user=therapist, type=Authenticator.Type.TOTP).count() == 1


def test_a_second_tab_gets_a_clear_refusal_and_changes_nothing(client, therapist, privacy_officer):
    _invitation, token = staff_invitation_issue(user=therapist, actor=privacy_officer)
    open_and_sign_in(client, token)
    client.get(reverse("staff_invitation_enrol"))
    secret = client.session[TOTP_IN_SESSION]
    # Both tabs hold the invitation and the same secret (one session).
    first = client.post(reverse("staff_invitation_enrol"), {"code": code_for(secret)})
    assert first["Location"] == reverse("staff_invitation_done")
    session = client.session
    session["clinic_staff_invitation"] = StaffInvitation.objects.get().pk
    session[TOTP_IN_SESSION] = generate_totp_secret()
    session.save()
    second = client.post(
        reverse("staff_invitation_enrol"), {"code": code_for(session[TOTP_IN_SESSION])}
    )
    assert second.status_code == 400
    assert "already been used" in second.content.decode()
    totp = Authenticator.objects.get(user=therapist, type=Authenticator.Type.TOTP)
    assert TOTP(totp).validate_code(code_for(secret))


@pytest.mark.parametrize("purpose", StaffInvitation.Purpose.values)
@pytest.mark.django_db(transaction=True)
def test_two_uses_at_the_same_moment_enrol_one_authenticator(clinic_qc, purpose):
    """Real transactions in two threads: the invitation is taken by a
    conditional update, so the second waits for the first and finds it used."""
    therapist = staff_create(role=StaffRole.THERAPIST, clinics=[clinic_qc])
    if purpose == StaffInvitation.Purpose.RESET:
        TOTP.activate(therapist, generate_totp_secret())
    invitation, _token = staff_invitation_issue(user=therapist, actor=None, purpose=purpose)
    secrets = [generate_totp_secret(), generate_totp_secret()]
    start = threading.Barrier(2)
    outcomes = []

    def use(secret):
        try:
            start.wait()
            staff_invitation_redeem(invitation=invitation, user=therapist, totp_secret=secret)
            outcomes.append("enrolled")
        except InvitationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=use, args=(s,)) for s in secrets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["enrolled", "refused"]
    assert Authenticator.objects.filter(user=therapist, type=Authenticator.Type.TOTP).count() == 1


def test_an_expired_invitation_is_refused(client, therapist, privacy_officer):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        _invitation, token = staff_invitation_issue(user=therapist, actor=privacy_officer)
        clock.shift(timedelta(hours=72, seconds=1))
        response = client.get(reverse("staff_invitation", args=[token]))
    assert response.status_code == 400
    assert "has expired" in response.content.decode()


def test_an_invitation_that_expires_while_open_enrols_nothing(client, therapist, privacy_officer):
    with time_machine.travel(timezone.now(), tick=False):
        invitation, token = staff_invitation_issue(user=therapist, actor=privacy_officer)
        open_and_sign_in(client, token)
        client.get(reverse("staff_invitation_enrol"))
        secret = client.session[TOTP_IN_SESSION]
        # Expired since the page was opened (the session itself still alive).
        StaffInvitation.objects.filter(pk=invitation.pk).update(
            created_at=timezone.now() - timedelta(hours=73),
            expires_at=timezone.now() - timedelta(seconds=1),
        )
        response = client.post(reverse("staff_invitation_enrol"), {"code": code_for(secret)})
    assert response.status_code == 400
    assert not Authenticator.objects.filter(user=therapist).exists()


def test_an_unknown_link_is_refused(db, client):
    response = client.get(reverse("staff_invitation", args=["not-a-real-token"]))
    assert response.status_code == 400
    assert "not valid" in response.content.decode()


def test_an_invitation_does_not_work_for_another_user(
    staff_login, therapist, coordinator, privacy_officer
):
    _invitation, token = staff_invitation_issue(user=therapist, actor=privacy_officer)
    web = staff_login(coordinator)  # signed in as someone else, with two-factor
    web.get(reverse("staff_invitation", args=[token]))
    page = web.get(reverse("staff_invitation_enrol"))
    assert page.status_code == 403
    assert "for another account" in page.content.decode()
    response = web.post(reverse("staff_invitation_enrol"), {"code": "123456"})
    assert response.status_code == 403
    assert not Authenticator.objects.filter(user=therapist).exists()
    # The service refuses too, whatever page calls it.
    with pytest.raises(InvitationError, match="for another account"):
        staff_invitation_redeem(
            invitation=StaffInvitation.objects.get(),
            user=coordinator,
            totp_secret=generate_totp_secret(),
        )
    assert not Authenticator.objects.filter(user=therapist).exists()
    assert Authenticator.objects.filter(user=coordinator).count() == 1  # their own, untouched
    assert StaffInvitation.objects.get().used_at is None


def test_another_persons_password_does_not_open_an_invitation(client, therapist, coordinator):
    _invitation, token = staff_invitation_issue(user=therapist, actor=None)
    client.get(reverse("staff_invitation", args=[token]))
    # The page asks for the password of the invitation's account, whatever is typed.
    response = client.post(
        reverse("staff_invitation_enrol"), {"password": PASSWORD, "login": coordinator.email}
    )
    assert response.status_code == 302  # the therapist's own password: signed in as them
    assert int(client.session["_auth_user_id"]) == therapist.pk


def test_a_wrong_password_on_the_invitation_page_signs_nobody_in(client, therapist):
    _invitation, token = staff_invitation_issue(user=therapist, actor=None)
    response = open_and_sign_in(client, token, password="not-the-password")
    assert response.status_code == 200
    assert "This password is not the one of this account." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_wrong_code_enrols_nothing(client, therapist):
    _invitation, token = staff_invitation_issue(user=therapist, actor=None)
    open_and_sign_in(client, token)
    client.get(reverse("staff_invitation_enrol"))
    secret = client.session[TOTP_IN_SESSION]
    wrong = f"{(int(code_for(secret)) + 1) % 1_000_000:06d}"
    response = client.post(reverse("staff_invitation_enrol"), {"code": wrong})
    assert response.status_code == 200
    assert "This code is not right." in response.content.decode()
    assert not Authenticator.objects.filter(user=therapist).exists()
    assert StaffInvitation.objects.get().used_at is None


def test_having_opened_a_valid_invitation_the_gate_leads_back_to_it(client, therapist):
    _invitation, token = staff_invitation_issue(user=therapist, actor=None)
    open_and_sign_in(client, token)
    assert client.get("/staff/")["Location"] == reverse("staff_invitation_enrol")
    # allauth's own enrolment page is never the way, even then.
    assert client.get(reverse("mfa_activate_totp"))["Location"] == reverse("staff_invitation_enrol")


def test_a_newer_invitation_replaces_the_older(client, therapist, privacy_officer):
    _first, old_token = staff_invitation_issue(user=therapist, actor=privacy_officer)
    _second, new_token = staff_invitation_issue(user=therapist, actor=privacy_officer)
    response = client.get(reverse("staff_invitation", args=[old_token]))
    assert response.status_code == 400
    assert "A newer invitation replaced this one" in response.content.decode()
    assert enrol(browser(), new_token)[0]["Location"] == reverse("staff_invitation_done")


def test_someone_made_staff_in_the_admin_signs_in_after_their_invitation(client, clinic_qc):
    """No verified address yet (the admin makes none): the e-mailed link proves it."""
    from clinic.accounts import staff_profile_create
    from clinic.models import User

    user = User.objects.create_user(email="new.hire@example.com", password=PASSWORD)
    staff_profile_create(user=user, role=StaffRole.COORDINATOR, clinics=[clinic_qc])
    _invitation, token = staff_invitation_issue(user=user, actor=None)
    _response, secret = enrol(browser(), token)
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response["Location"] == reverse("mfa_authenticate")
    with time_machine.travel(timezone.now() + timedelta(seconds=30), tick=False):
        client.post(reverse("mfa_authenticate"), {"code": code_for(secret)})
        assert client.get("/staff/").status_code == 200


# --- Reset: replacing a lost authenticator ---------------------------------------


def test_a_reset_replaces_the_old_authenticator_only_when_used(client, therapist, superuser):
    old_secret = generate_totp_secret()
    TOTP.activate(therapist, old_secret)
    _invitation, token = staff_invitation_issue(
        user=therapist, actor=superuser, purpose=StaffInvitation.Purpose.RESET
    )
    # Sent, not used: the old authenticator still signs in.
    laptop = browser()
    response = laptop.post(
        reverse("account_login"), {"login": therapist.email, "password": PASSWORD}
    )
    assert response["Location"] == reverse("mfa_authenticate")
    laptop.post(reverse("mfa_authenticate"), {"code": code_for(old_secret)})
    assert laptop.get("/staff/").status_code == 200

    response, new_secret = enrol(client, token)  # the phone is lost: password on the page
    assert response["Location"] == reverse("staff_invitation_done")
    totp = Authenticator.objects.get(user=therapist, type=Authenticator.Type.TOTP)
    assert totp.wrap().validate_code(code_for(new_secret))
    assert not totp.wrap().validate_code(code_for(old_secret))
    assert StaffInvitation.objects.get().authenticators_removed == 1
    # The laptop's session ended with the reset.
    assert laptop.get("/staff/")["Location"].startswith(reverse("account_login"))
    assert client.get("/staff/").status_code == 200


def test_a_reset_opened_but_not_finished_changes_nothing(client, therapist):
    old_secret = generate_totp_secret()
    TOTP.activate(therapist, old_secret)
    _invitation, token = staff_invitation_issue(
        user=therapist, actor=None, purpose=StaffInvitation.Purpose.RESET
    )
    open_and_sign_in(client, token)
    client.get(reverse("staff_invitation_enrol"))
    totp = Authenticator.objects.get(user=therapist, type=Authenticator.Type.TOTP)
    assert totp.wrap().validate_code(code_for(old_secret))
    # Signed in by password alone on the invitation page: nothing else opens.
    assert client.get("/staff/")["Location"].startswith(reverse("mfa_reauthenticate"))


def test_using_a_first_invitation_ends_the_persons_other_sessions(therapist):
    """Whoever signed in with the password before the invitation was used is out."""
    stranger = browser()
    sign_in_with_password(stranger, therapist)
    _invitation, token = staff_invitation_issue(user=therapist, actor=None)
    enrol(browser(), token)
    assert stranger.get(reverse("staff_invitation_needed"))["Location"].startswith(
        reverse("account_login")
    )


# --- Who may send one, and the record --------------------------------------------


def test_only_staff_are_invited(client_a, superuser):
    with pytest.raises(InvitationError, match="Only staff accounts"):
        staff_invitation_issue(user=client_a.user, actor=superuser)
    assert not StaffInvitation.objects.exists()


@pytest.mark.parametrize(
    ("sender", "invited", "allowed"),
    [
        ("superuser", "therapist", True),
        ("privacy_officer", "therapist", True),  # same clinic
        ("privacy_officer", "other_clinic_therapist", False),
        ("privacy_officer", "superuser", False),
        ("coordinator", "therapist", False),
        ("therapist", "therapist", False),  # nobody invites themselves
        ("superuser", "superuser", False),
    ],
)
def test_who_may_send_an_invitation(request, sender, invited, allowed):
    actor, user = request.getfixturevalue(sender), request.getfixturevalue(invited)
    if allowed:
        staff_invitation_issue(user=user, actor=actor)
        assert StaffInvitation.objects.filter(user=user, created_by=actor).exists()
    else:
        with pytest.raises(InvitationError):
            staff_invitation_issue(user=user, actor=actor)
        assert not StaffInvitation.objects.exists()


def test_a_first_invitation_is_for_someone_without_an_authenticator(therapist, superuser):
    TOTP.activate(therapist, generate_totp_secret())
    with pytest.raises(InvitationError, match="already has an authenticator"):
        staff_invitation_issue(user=therapist, actor=superuser)
    with pytest.raises(InvitationError, match="no authenticator yet"):
        staff_invitation_issue(
            user=UserFactory(is_staff=True), actor=superuser, purpose=StaffInvitation.Purpose.RESET
        )


def test_each_invitation_is_recorded_with_who_for_whom_and_when(therapist, privacy_officer):
    before = timezone.now()
    invitation, token = staff_invitation_issue(user=therapist, actor=privacy_officer)
    invitation.refresh_from_db()
    assert invitation.user == therapist
    assert invitation.created_by == privacy_officer
    assert invitation.created_at >= before
    assert invitation.purpose == StaffInvitation.Purpose.ENROL
    assert invitation.expires_at == invitation.created_at + timedelta(hours=72)
    assert token not in invitation.token_hash  # only its hash is kept
    with pytest.raises(ValidationError):
        invitation.delete()
    # A second invitation keeps the first one's record (marked replaced).
    staff_invitation_issue(user=therapist, actor=privacy_officer)
    assert StaffInvitation.objects.filter(user=therapist).count() == 2


def test_the_invitation_email_goes_to_the_staff_members_address_in_their_language(
    therapist, privacy_officer
):
    therapist.preferred_language = "fr"
    therapist.save()
    _invitation, token = staff_invitation_issue(user=therapist, actor=privacy_officer)
    outbox_sweep()
    (message,) = mail.outbox
    assert message.to == [therapist.email]
    assert message.subject.startswith("Configurez l’authentification à deux facteurs")
    assert f"http://testserver/accounts/invitation/{token}/" in message.body
    # Sent: the token no longer sits in the database.
    row = OutboxMessage.objects.get(kind=invitations.INVITATION_EMAIL)
    assert "token" not in row.payload


def test_an_invitation_replaced_before_the_sweep_is_not_sent(therapist, privacy_officer):
    staff_invitation_issue(user=therapist, actor=privacy_officer)
    _second, token = staff_invitation_issue(user=therapist, actor=privacy_officer)
    outbox_sweep()
    (message,) = mail.outbox
    assert token in message.body


def test_the_command_line_invites_the_first_administrator(superuser, capsys):
    call_command("staff_invite", superuser.email)
    link = re.search(r"http://testserver/accounts/invitation/\S+/", capsys.readouterr().out)
    invitation = StaffInvitation.objects.get(user=superuser)
    assert link and invitation.created_by is None
    response, _secret = enrol(browser(), link.group(0).split("/")[-2])
    assert response["Location"] == reverse("staff_invitation_done")


# --- The admin ------------------------------------------------------------------------


def test_the_privacy_officer_sends_invitations_from_the_staff_list(
    staff_login, privacy_officer, therapist, other_clinic_therapist
):
    web = staff_login(privacy_officer)
    changelist = reverse("admin:clinic_staffprofile_changelist")
    page = web.get(changelist)
    assert page.status_code == 200
    assert str(therapist) in page.content.decode()
    assert str(other_clinic_therapist) not in page.content.decode()
    profiles = StaffProfile.objects.filter(
        user__in=[therapist, other_clinic_therapist]
    ).values_list("pk", flat=True)
    web.post(changelist, {"action": "send_invitation", "_selected_action": list(profiles)})
    invitation = StaffInvitation.objects.get()  # the other clinic's therapist: nothing
    assert invitation.user == therapist and invitation.created_by == privacy_officer
    assert LogEntry.objects.filter(
        user=privacy_officer, object_id=str(therapist.staff_profile.pk)
    ).exists()
    # Read-only for them: the profile itself is not theirs to change.
    change = reverse("admin:clinic_staffprofile_change", args=[therapist.staff_profile.pk])
    web.post(change, {"role": StaffRole.PRIVACY_OFFICER})
    assert StaffProfile.objects.get(user=therapist).role == StaffRole.THERAPIST


def test_a_reset_from_the_admin(staff_login, superuser, therapist):
    TOTP.activate(therapist, generate_totp_secret())
    web = staff_login(superuser)
    web.post(
        reverse("admin:clinic_staffprofile_changelist"),
        {"action": "send_reset", "_selected_action": [therapist.staff_profile.pk]},
    )
    invitation = StaffInvitation.objects.get()
    assert invitation.purpose == StaffInvitation.Purpose.RESET
    assert invitation.created_by == superuser
    # Sent, not used: the authenticator is still there.
    assert Authenticator.objects.filter(user=therapist, type=Authenticator.Type.TOTP).exists()


def test_other_staff_cannot_send_invitations(staff_login, coordinator, therapist):
    web = staff_login(coordinator)
    response = web.post(
        reverse("admin:clinic_staffprofile_changelist"),
        {"action": "send_invitation", "_selected_action": [therapist.staff_profile.pk]},
    )
    assert response.status_code == 403
    assert not StaffInvitation.objects.exists()


def test_the_invitation_record_shows_each_privacy_officer_their_clinics_staff(
    staff_login, privacy_officer, therapist, other_clinic_therapist
):
    staff_invitation_issue(user=therapist, actor=None)
    staff_invitation_issue(user=other_clinic_therapist, actor=None)
    page = staff_login(privacy_officer).get(reverse("admin:clinic_staffinvitation_changelist"))
    assert page.status_code == 200
    assert str(therapist) in page.content.decode()
    assert str(other_clinic_therapist) not in page.content.decode()
