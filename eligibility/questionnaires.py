"""PHQ-9 and GAD-7: public-domain questionnaires (Pfizer, no permission
required), scored with their published severity bands (Kroenke, Spitzer &
Williams 2001; Spitzer et al. 2006). Each item is answered 0 to 3 about the
last two weeks."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

ANSWER_CHOICES = [
    (0, _("Not at all")),
    (1, _("Several days")),
    (2, _("More than half the days")),
    (3, _("Nearly every day")),
]


@dataclass(frozen=True)
class Band:
    low: int
    high: int
    code: str
    label: str


@dataclass(frozen=True)
class Questionnaire:
    code: str
    title: str
    items: tuple
    bands: tuple[Band, ...]

    def score(self, answers: list[int]) -> int:
        if len(answers) != len(self.items) or any(a not in (0, 1, 2, 3) for a in answers):
            raise ValueError(f"{self.code} needs {len(self.items)} answers from 0 to 3")
        return sum(answers)

    def band(self, score: int) -> Band:
        return next(b for b in self.bands if b.low <= score <= b.high)


PHQ9 = Questionnaire(
    code="phq9",
    title=_(
        "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
    ),
    items=(
        _("Little interest or pleasure in doing things"),
        _("Feeling down, depressed, or hopeless"),
        _("Trouble falling or staying asleep, or sleeping too much"),
        _("Feeling tired or having little energy"),
        _("Poor appetite or overeating"),
        _(
            "Feeling bad about yourself, or that you are a failure or have let yourself or your family down"
        ),
        _("Trouble concentrating on things, such as reading the newspaper or watching television"),
        _(
            "Moving or speaking so slowly that other people could have noticed, or the opposite: being so "
            "fidgety or restless that you have been moving around a lot more than usual"
        ),
        _("Thoughts that you would be better off dead, or of hurting yourself in some way"),
    ),
    bands=(
        Band(0, 4, "minimal", _("Minimal")),
        Band(5, 9, "mild", _("Mild")),
        Band(10, 14, "moderate", _("Moderate")),
        Band(15, 19, "moderately_severe", _("Moderately severe")),
        Band(20, 27, "severe", _("Severe")),
    ),
)
# Item 9 asks about thoughts of death or self-harm: any answer above 0 opens the crisis path.
PHQ9_SAFETY_ITEM = 8

GAD7 = Questionnaire(
    code="gad7",
    title=_("Over the last 2 weeks, how often have you been bothered by the following problems?"),
    items=(
        _("Feeling nervous, anxious, or on edge"),
        _("Not being able to stop or control worrying"),
        _("Worrying too much about different things"),
        _("Trouble relaxing"),
        _("Being so restless that it is hard to sit still"),
        _("Becoming easily annoyed or irritable"),
        _("Feeling afraid, as if something awful might happen"),
    ),
    bands=(
        Band(0, 4, "minimal", _("Minimal")),
        Band(5, 9, "mild", _("Mild")),
        Band(10, 14, "moderate", _("Moderate")),
        Band(15, 21, "severe", _("Severe")),
    ),
)

QUESTIONNAIRES = {q.code: q for q in (PHQ9, GAD7)}
