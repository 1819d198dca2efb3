import importlib
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from clinic import access_log, privacy
from clinic.models import ConfidentialityIncident
from clinic.tests.factories import client_create


def test_the_privacy_officer_reads_and_exports_the_access_log(
    staff_login, client_a, therapist, privacy_officer
):
    access_log.access_log_record(actor=therapist, client=client_a, obj=client_a)
    web = staff_login(privacy_officer)
    assert web.get(reverse("admin:clinic_accesslogentry_changelist")).status_code == 200
    entry_pk = access_log.access_log_record(actor=therapist, client=client_a, obj=client_a).pk
    response = web.post(
        reverse("admin:clinic_accesslogentry_changelist"),
        {"action": "export_csv", "_selected_action": [entry_pk]},
    )
    assert response["Content-Type"].startswith("text/csv")
    body = response.content.decode()
    assert therapist.email in body and client_a.user.email in body


def test_the_privacy_officer_sees_a_read_before_it_is_sealed(
    staff_login, client_a, therapist, privacy_officer
):
    entry = access_log.access_log_record(actor=therapist, client=client_a, obj=client_a)
    web = staff_login(privacy_officer)
    detail = reverse("admin:clinic_accesslogentry_change", args=[entry.pk])
    assert detail in web.get(reverse("admin:clinic_accesslogentry_changelist")).content.decode()
    page = web.get(detail).content.decode()
    assert "Sealed into the chain" in page and "icon-no" in page
    access_log.access_log_seal()
    page = web.get(detail).content.decode()
    assert "Sealed into the chain" in page and "icon-yes" in page
    with translation.override("fr"):
        assert translation.gettext("sealed into the chain") == "scellée dans la chaîne"


def test_clinicians_and_coordinators_do_not_read_the_access_log(
    staff_login, therapist, coordinator
):
    for person in (therapist, coordinator):
        assert (
            staff_login(person).get(reverse("admin:clinic_accesslogentry_changelist")).status_code
            == 403
        )


def test_the_privacy_officer_records_an_incident_that_can_never_be_deleted(
    staff_login, privacy_officer, clinic_qc
):
    web = staff_login(privacy_officer)
    response = web.post(
        reverse("admin:clinic_confidentialityincident_add"),
        {
            "clinic": clinic_qc.pk,
            "discovered_on": "2026-11-20",
            "occurred_on": "2026-11-18",
            "nature": "A letter sent to the wrong address.",
            "data_affected": "Name and appointment date",
            "people_affected": "1",
            "risk": "low",
            "risk_reasons": "No health detail in the letter.",
            "measures": "Letter recovered.",
        },
    )
    assert response.status_code == 302
    incident = ConfidentialityIncident.objects.get()
    assert incident.recorded_by == privacy_officer
    assert (
        web.post(
            reverse("admin:clinic_confidentialityincident_delete", args=[incident.pk]),
            {"post": "yes"},
        ).status_code
        == 403
    )
    with pytest.raises(ValidationError):
        incident.delete()
    assert ConfidentialityIncident.objects.exists()


def test_an_incident_cannot_be_discovered_before_it_happened(
    staff_login, privacy_officer, clinic_qc
):
    response = staff_login(privacy_officer).post(
        reverse("admin:clinic_confidentialityincident_add"),
        {
            "clinic": clinic_qc.pk,
            "discovered_on": "2026-11-01",
            "occurred_on": "2026-11-18",
            "nature": "x",
            "data_affected": "x",
            "risk": "low",
        },
    )
    assert response.status_code == 200
    assert not ConfidentialityIncident.objects.exists()


def test_other_staff_cannot_see_the_incident_register(staff_login, therapist):
    assert (
        staff_login(therapist)
        .get(reverse("admin:clinic_confidentialityincident_changelist"))
        .status_code
        == 403
    )


# --- Each privacy officer, their own clinics (issue 10, item 8) --------------------
# Montreal's officer (`privacy_officer`) and Vancouver's (`privacy_officer_bc`)
# each see their own clinic's clients' entries, requests and incidents: in the
# list, in a CSV, and by id.


@pytest.fixture
def client_bc(clinic_bc):
    return client_create(clinic=clinic_bc, email="client.bc@example.com")


@pytest.fixture
def two_clinics(client_a, client_bc, therapist, other_clinic_therapist):
    """An access-log entry, a closure request and an incident at each clinic."""
    qc_entry = access_log.access_log_record(actor=therapist, client=client_a, obj=client_a)
    bc_entry = access_log.access_log_record(
        actor=other_clinic_therapist, client=client_bc, obj=client_bc
    )
    qc_request, _new = privacy.account_closure_request(client=client_a, reason="Moving to Gaspé")
    bc_request, _new = privacy.account_closure_request(client=client_bc, reason="Moving to Kelowna")
    qc_incident = ConfidentialityIncident.objects.create(
        clinic=client_a.clinic,
        discovered_on=date(2026, 11, 2),
        nature="Fax to the wrong pharmacy in Laval",
        data_affected="x",
        risk="low",
        recorded_by=therapist,
    )
    bc_incident = ConfidentialityIncident.objects.create(
        clinic=client_bc.clinic,
        discovered_on=date(2026, 11, 3),
        nature="Laptop left on the SkyTrain",
        data_affected="x",
        risk="serious",
        recorded_by=other_clinic_therapist,
    )
    return {
        "qc": {"entry": qc_entry, "request": qc_request, "incident": qc_incident},
        "bc": {"entry": bc_entry, "request": bc_request, "incident": bc_incident},
        "clients": {"qc": client_a, "bc": client_bc},
    }


def incident_link(incident) -> str:
    return reverse("admin:clinic_confidentialityincident_change", args=[incident.pk])


OFFICERS = [("privacy_officer", "qc", "bc"), ("privacy_officer_bc", "bc", "qc")]


@pytest.mark.parametrize(("officer", "own", "other"), OFFICERS)
def test_each_privacy_officer_reads_their_own_clinics_access_log(
    request, staff_login, two_clinics, officer, own, other
):
    web = staff_login(request.getfixturevalue(officer))
    own_email = two_clinics["clients"][own].user.email
    other_email = two_clinics["clients"][other].user.email
    page = web.get(reverse("admin:clinic_accesslogentry_changelist"))
    assert str(two_clinics["clients"][own]) in page.content.decode()
    assert str(two_clinics["clients"][other]) not in page.content.decode()
    # Another clinic's entry by its id: sent away, nothing of it shown.
    other_entry = two_clinics[other]["entry"]
    for name in ("change", "history"):
        response = web.get(reverse(f"admin:clinic_accesslogentry_{name}", args=[other_entry.pk]))
        assert response.status_code == 302
        assert response["Location"] == reverse("admin:index")
    # The CSV: every id posted, only their own clinic's rows come out.
    response = web.post(
        reverse("admin:clinic_accesslogentry_changelist"),
        {
            "action": "export_csv",
            "_selected_action": [two_clinics[c]["entry"].pk for c in ("qc", "bc")],
        },
    )
    body = response.content.decode()
    assert own_email in body
    assert other_email not in body


@pytest.mark.parametrize(("officer", "own", "other"), OFFICERS)
def test_each_privacy_officer_handles_their_own_clinics_closure_requests(
    request, staff_login, two_clinics, officer, own, other
):
    web = staff_login(request.getfixturevalue(officer))
    page = web.get(reverse("admin:clinic_accountclosurerequest_changelist")).content.decode()
    assert str(two_clinics["clients"][own]) in page
    assert str(two_clinics["clients"][other]) not in page
    other_request = two_clinics[other]["request"]
    change = reverse("admin:clinic_accountclosurerequest_change", args=[other_request.pk])
    response = web.get(change)
    assert response.status_code == 302
    assert other_request.reason not in response.content.decode()
    web.post(change, {"status": "handled", "outcome": "Closed."})
    other_request.refresh_from_db()
    assert other_request.status == "open"
    own_request = two_clinics[own]["request"]
    page = web.get(
        reverse("admin:clinic_accountclosurerequest_change", args=[own_request.pk])
    ).content.decode()
    assert own_request.reason in page


@pytest.mark.parametrize(("officer", "own", "other"), OFFICERS)
def test_each_privacy_officer_keeps_their_own_clinics_incident_register(
    request, staff_login, two_clinics, officer, own, other
):
    web = staff_login(request.getfixturevalue(officer))
    page = web.get(reverse("admin:clinic_confidentialityincident_changelist")).content.decode()
    assert incident_link(two_clinics[own]["incident"]) in page
    assert incident_link(two_clinics[other]["incident"]) not in page
    other_incident = two_clinics[other]["incident"]
    change = reverse("admin:clinic_confidentialityincident_change", args=[other_incident.pk])
    response = web.get(change)
    assert response.status_code == 302
    assert other_incident.nature not in response.content.decode()
    own_incident = two_clinics[own]["incident"]
    page = web.get(
        reverse("admin:clinic_confidentialityincident_change", args=[own_incident.pk])
    ).content.decode()
    assert own_incident.nature in page


def test_a_new_incident_names_one_of_the_officers_clinics(
    staff_login, privacy_officer, clinic_qc, clinic_bc
):
    web = staff_login(privacy_officer)
    incident = {
        "discovered_on": "2026-11-20",
        "nature": "A letter sent to the wrong address.",
        "data_affected": "Name",
        "risk": "low",
    }
    add = reverse("admin:clinic_confidentialityincident_add")
    for clinic in ("", clinic_bc.pk):  # none, or another clinic's
        response = web.post(add, {**incident, "clinic": clinic})
        assert response.status_code == 200
        assert response.context["adminform"].form.errors["clinic"]
    assert not ConfidentialityIncident.objects.exists()
    assert web.post(add, {**incident, "clinic": clinic_qc.pk}).status_code == 302
    assert ConfidentialityIncident.objects.get().clinic == clinic_qc


def test_an_incident_recorded_before_the_register_was_per_clinic_shows_to_its_recorder(
    staff_login, privacy_officer, privacy_officer_bc, clinic_qc
):
    legacy = ConfidentialityIncident.objects.create(
        discovered_on=date(2026, 10, 1),
        nature="Recorded before clinics were named",
        data_affected="x",
        risk="low",
        recorded_by=privacy_officer,
    )
    changelist = reverse("admin:clinic_confidentialityincident_changelist")
    assert incident_link(legacy) in staff_login(privacy_officer).get(changelist).content.decode()
    other = staff_login(privacy_officer_bc)
    assert incident_link(legacy) not in other.get(changelist).content.decode()
    change = reverse("admin:clinic_confidentialityincident_change", args=[legacy.pk])
    assert other.get(change).status_code == 302
    # Its recorder names the clinic when completing it.
    web = staff_login(privacy_officer)
    response = web.post(
        change,
        {
            "clinic": clinic_qc.pk,
            "discovered_on": "2026-10-01",
            "nature": legacy.nature,
            "data_affected": "x",
            "risk": "low",
            "measures": "Letter recovered.",
        },
    )
    assert response.status_code == 302
    legacy.refresh_from_db()
    assert legacy.clinic == clinic_qc


def test_the_migration_names_the_clinic_of_an_officer_of_one_clinic(
    privacy_officer, clinic_qc, clinic_bc
):
    from django.apps import apps

    from clinic.tests.factories import staff_create

    migration = importlib.import_module("clinic.migrations.0017_incident_clinic")
    both = staff_create(role="privacy_officer", clinics=[clinic_qc, clinic_bc])
    one = ConfidentialityIncident.objects.create(
        discovered_on=date(2026, 10, 1),
        nature="a",
        data_affected="x",
        risk="low",
        recorded_by=privacy_officer,
    )
    unclear = ConfidentialityIncident.objects.create(
        discovered_on=date(2026, 10, 1),
        nature="b",
        data_affected="x",
        risk="low",
        recorded_by=both,
    )
    migration.name_the_clinic_where_it_is_clear(apps, None)
    one.refresh_from_db()
    unclear.refresh_from_db()
    assert one.clinic == clinic_qc
    assert unclear.clinic is None
