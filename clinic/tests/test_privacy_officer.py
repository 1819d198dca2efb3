import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from clinic import access_log
from clinic.models import ConfidentialityIncident


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


def test_clinicians_and_coordinators_do_not_read_the_access_log(
    staff_login, therapist, coordinator
):
    for person in (therapist, coordinator):
        assert (
            staff_login(person).get(reverse("admin:clinic_accesslogentry_changelist")).status_code
            == 403
        )


def test_the_privacy_officer_records_an_incident_that_can_never_be_deleted(
    staff_login, privacy_officer
):
    web = staff_login(privacy_officer)
    response = web.post(
        reverse("admin:clinic_confidentialityincident_add"),
        {
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


def test_an_incident_cannot_be_discovered_before_it_happened(staff_login, privacy_officer):
    response = staff_login(privacy_officer).post(
        reverse("admin:clinic_confidentialityincident_add"),
        {
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
