"""Measurement-based care: PHQ-9 and GAD-7 asked before each dosing session
and as follow-ups after the series, charted for the client and their
clinicians. The questionnaires themselves (items, scoring, bands) are
eligibility's: one definition, used by the screener and here."""
