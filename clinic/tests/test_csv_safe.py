"""CSV the app writes opens in a spreadsheet as data: a cell that would run
as a formula comes out behind a single quote."""

import csv
import io
import re
from pathlib import Path

import pytest
from django.urls import reverse

from clinic import access_log, csv_safe
from clinic.models import StaffRole
from clinic.tests.factories import client_create, staff_create

BASE = Path(__file__).resolve().parent.parent.parent


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_that_would_start_a_formula_is_prefixed_with_a_quote(start):
    assert csv_safe.neutralise(f'{start}HYPERLINK("http://x.example")') == (
        f'\'{start}HYPERLINK("http://x.example")'
    )


@pytest.mark.parametrize(
    "value", ["therapist@example.com", "/admin/x/?q=1", "", "a=b", "2026-11-27T10:00:00+00:00"]
)
def test_ordinary_text_is_written_as_it_is(value):
    assert csv_safe.neutralise(value) == value


def test_numbers_and_empty_cells_are_left_alone():
    out = io.StringIO()
    csv_safe.writer(out).writerows([[-3, 1.5, None, "=1+1"]])
    assert next(csv.reader(io.StringIO(out.getvalue()))) == ["-3", "1.5", "", "'=1+1"]


def test_the_access_log_export_neutralises_formula_looking_values(
    staff_login, clinic_qc, privacy_officer
):
    actor = staff_create(role=StaffRole.THERAPIST, clinics=[clinic_qc], email="=1+2@example.com")
    client = client_create(clinic=clinic_qc, email="-2+3@example.com")
    entry = access_log.access_log_record(actor=actor, client=client, obj=client)
    response = staff_login(privacy_officer).post(
        reverse("admin:clinic_accesslogentry_changelist"),
        {"action": "export_csv", "_selected_action": [entry.pk]},
    )
    header, row = csv.reader(io.StringIO(response.content.decode()))
    assert row[header.index("staff member")] == "'=1+2@example.com"
    assert row[header.index("client")] == "'-2+3@example.com"


def test_no_csv_is_written_without_the_neutralising_writer():
    """Every CSV the app writes goes through clinic.csv_safe."""
    writer = re.compile(r"\bcsv\.(writer|DictWriter)\b")
    skip = {".venv", "tests", "migrations", "staticfiles", "var"}
    offenders = [
        str(path.relative_to(BASE))
        for path in BASE.rglob("*.py")
        if not skip & set(path.relative_to(BASE).parts)
        and path.relative_to(BASE) != Path("clinic/csv_safe.py")
        and writer.search(path.read_text(encoding="utf-8", errors="replace"))
    ]
    assert offenders == []
