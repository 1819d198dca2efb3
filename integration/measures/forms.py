"""The questionnaires' forms are the screener's own (eligibility.forms):
the same items, choices and coercion, here side by side with prefixes."""

from eligibility.forms import GAD7Form, PHQ9Form


class MeasureForms:
    """The PHQ-9 and GAD-7 forms of one answer page."""

    def __init__(self, data=None):
        self.phq9 = PHQ9Form(data, prefix="phq9")
        self.gad7 = GAD7Form(data, prefix="gad7")

    def __iter__(self):
        return iter((self.phq9, self.gad7))

    def is_valid(self) -> bool:
        return all([self.phq9.is_valid(), self.gad7.is_valid()])  # both, for every error

    def answers(self) -> tuple[list[int], list[int]]:
        return self.phq9.answers()["phq9"], self.gad7.answers()["gad7"]
