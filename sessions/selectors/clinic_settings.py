"""The clinic's safety numbers, read in one place by every area of the stage."""

from clinic.models import Clinic

from ..models import DosingSettings


def dosing_settings(clinic: Clinic) -> DosingSettings:
    """The clinic's own row, or the published defaults (an unsaved row) when
    it has none. Reads the row loaded with the clinic
    (`select_related("dosing_settings")`) when there is one."""
    try:
        return clinic.dosing_settings
    except DosingSettings.DoesNotExist:
        return DosingSettings(clinic=clinic)
