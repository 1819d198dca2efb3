"""Dates as people read them, in both languages."""

from datetime import UTC, datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from django.utils import translation

from clinic.formatting import local_when
from intake.models import AvailabilityWindow

MONTREAL = SimpleNamespace(zone=ZoneInfo("America/Toronto"))
FRIDAY = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)  # 10:00 in Montreal


def test_french_weekday_and_month_stay_lowercase_mid_sentence():
    with translation.override("fr"):
        assert local_when(FRIDAY, MONTREAL) == "vendredi 4 décembre 2026, 10 h 00"
        sentence = translation.gettext("Your intake call is moved to %(when)s") % {
            "when": local_when(FRIDAY, MONTREAL)
        }
    assert "du vendredi 4 décembre" in sentence or "au vendredi 4 décembre" in sentence


def test_english_weekday_and_month_are_capitalised():
    with translation.override("en"):
        assert local_when(FRIDAY, MONTREAL) == "Friday December 4, 2026, 10:00 a.m."


def test_weekday_labels_in_lists_keep_their_capital_in_french():
    with translation.override("fr"):
        assert str(AvailabilityWindow.Weekday.FRIDAY.label) == "Vendredi"
