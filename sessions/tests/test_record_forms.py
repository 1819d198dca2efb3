"""The session record's forms check what they can on their own (the
services check it all again): ranges, the checklist, the dose's bounds, and
a time typed in the clinic's own zone, whatever the season."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from sessions.forms.record import AdministrationForm, DischargeForm, DosePlanForm, VitalsForm

MONTREAL = ZoneInfo("America/Toronto")


def vitals_form(**values):
    data = {"moment": "pre_dose", "systolic": 124, "diastolic": 78, "heart_rate": 70, "spo2": 98}
    return VitalsForm({f"vitals-{k}": v for k, v in {**data, **values}.items()}, prefix="vitals")


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"systolic": 900}, "systolic"),
        ({"heart_rate": -5}, "heart_rate"),
        ({"diastolic": 130}, "diastolic"),
    ],
)
def test_the_vitals_form_refuses_a_reading_out_of_range(values, field):
    form = vitals_form(**values)
    assert not form.is_valid()
    assert list(form.errors) == [field]


def test_the_vitals_form_takes_a_reading_in_range():
    assert vitals_form().is_valid()


def test_the_discharge_form_wants_every_item_ticked():
    ticked = {
        "discharge-alert_and_oriented": "on",
        "discharge-vitals_in_range": "on",
        "discharge-escort_or_ride": "on",
    }
    form = DischargeForm(ticked, prefix="discharge")
    assert not form.is_valid()
    assert form.non_field_errors() == [
        "Tick every item of the discharge checklist: the session cannot be closed until each is "
        "done."
    ]
    form = DischargeForm({**ticked, "discharge-no_driving_acknowledged": "on"}, prefix="discharge")
    assert form.is_valid()


@pytest.mark.parametrize("dose_mg", ["0", "-1", "12.345", "1000.5"])
def test_the_plan_form_refuses_a_dose_out_of_bounds(dose_mg):
    form = DosePlanForm({"plan-route": "nasal_spray", "plan-dose_mg": dose_mg}, prefix="plan")
    assert not form.is_valid() and list(form.errors) == ["dose_mg"]


@pytest.mark.parametrize(
    ("typed", "utc"),
    [
        ("2026-07-02T10:15", datetime(2026, 7, 2, 14, 15, tzinfo=UTC)),  # EDT, UTC-4
        ("2026-12-02T10:15", datetime(2026, 12, 2, 15, 15, tzinfo=UTC)),  # EST, UTC-5
    ],
)
def test_the_time_given_is_read_in_the_clinics_zone(typed, utc):
    form = AdministrationForm(
        {
            "administration-given_at": typed,
            "administration-route": "nasal_spray",
            "administration-dose_mg": "50",
        },
        prefix="administration",
        zone=MONTREAL,
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["given_at"] == utc


def test_a_time_that_does_not_exist_in_the_clinics_zone_is_refused():
    form = AdministrationForm(
        {
            "administration-given_at": "2026-03-08T02:30",  # clocks jump from 2:00 to 3:00
            "administration-route": "nasal_spray",
            "administration-dose_mg": "50",
        },
        prefix="administration",
        zone=MONTREAL,
    )
    assert not form.is_valid() and list(form.errors) == ["given_at"]
