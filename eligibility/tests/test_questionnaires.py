"""PHQ-9 and GAD-7 scored against worked examples: the sum of the items and
the published severity bands (Kroenke, Spitzer & Williams 2001 for the PHQ-9;
Spitzer et al. 2006 for the GAD-7), written out here independently of the code."""

import pytest

from eligibility.questionnaires import GAD7, PHQ9, PHQ9_SAFETY_ITEM, QUESTIONNAIRES

PHQ9_EXAMPLES = [
    ("all zeros", [0, 0, 0, 0, 0, 0, 0, 0, 0], 0, "minimal"),
    ("top of minimal", [1, 1, 1, 1, 0, 0, 0, 0, 0], 4, "minimal"),
    ("bottom of mild", [1, 1, 1, 1, 1, 0, 0, 0, 0], 5, "mild"),
    ("top of mild", [2, 2, 2, 1, 1, 1, 0, 0, 0], 9, "mild"),
    ("bottom of moderate", [2, 2, 2, 2, 1, 1, 0, 0, 0], 10, "moderate"),
    ("top of moderate", [3, 3, 2, 2, 2, 1, 1, 0, 0], 14, "moderate"),
    ("bottom of moderately severe", [3, 3, 3, 2, 2, 1, 1, 0, 0], 15, "moderately_severe"),
    ("top of moderately severe", [3, 3, 3, 3, 2, 2, 2, 1, 0], 19, "moderately_severe"),
    ("bottom of severe", [3, 3, 3, 3, 3, 2, 2, 1, 0], 20, "severe"),
    ("all threes", [3, 3, 3, 3, 3, 3, 3, 3, 3], 27, "severe"),
]

GAD7_EXAMPLES = [
    ("all zeros", [0, 0, 0, 0, 0, 0, 0], 0, "minimal"),
    ("top of minimal", [1, 1, 1, 1, 0, 0, 0], 4, "minimal"),
    ("bottom of mild", [1, 1, 1, 1, 1, 0, 0], 5, "mild"),
    ("top of mild", [2, 2, 2, 1, 1, 1, 0], 9, "mild"),
    ("bottom of moderate", [2, 2, 2, 2, 1, 1, 0], 10, "moderate"),
    ("top of moderate", [3, 3, 2, 2, 2, 1, 1], 14, "moderate"),
    ("bottom of severe", [3, 3, 3, 2, 2, 1, 1], 15, "severe"),
    ("all threes", [3, 3, 3, 3, 3, 3, 3], 21, "severe"),
]


@pytest.mark.parametrize(
    ("answers", "score", "band"),
    [pytest.param(a, s, b, id=f"phq9 {d}") for d, a, s, b in PHQ9_EXAMPLES],
)
def test_the_phq9_scores_the_worked_examples_into_their_band(answers, score, band):
    assert PHQ9.score(answers) == score
    assert PHQ9.band(score).code == band


@pytest.mark.parametrize(
    ("answers", "score", "band"),
    [pytest.param(a, s, b, id=f"gad7 {d}") for d, a, s, b in GAD7_EXAMPLES],
)
def test_the_gad7_scores_the_worked_examples_into_their_band(answers, score, band):
    assert GAD7.score(answers) == score
    assert GAD7.band(score).code == band


@pytest.mark.parametrize(("questionnaire", "top"), [(PHQ9, 27), (GAD7, 21)], ids=["phq9", "gad7"])
def test_every_possible_score_falls_in_exactly_one_band(questionnaire, top):
    for score in range(top + 1):
        assert len([b for b in questionnaire.bands if b.low <= score <= b.high]) == 1
    assert questionnaire.bands[0].low == 0
    assert questionnaire.bands[-1].high == top


def test_each_band_has_a_label_a_person_can_read():
    assert [str(b.label) for b in PHQ9.bands] == [
        "Minimal",
        "Mild",
        "Moderate",
        "Moderately severe",
        "Severe",
    ]
    assert [str(b.label) for b in GAD7.bands] == ["Minimal", "Mild", "Moderate", "Severe"]


def test_the_questionnaires_have_nine_and_seven_items_and_item_9_asks_about_self_harm():
    assert len(PHQ9.items) == 9
    assert len(GAD7.items) == 7
    assert "hurting yourself" in str(PHQ9.items[PHQ9_SAFETY_ITEM])
    assert set(QUESTIONNAIRES) == {"phq9", "gad7"}


@pytest.mark.parametrize(
    ("questionnaire", "answers"),
    [
        pytest.param(PHQ9, [0] * 8, id="phq9 eight answers"),
        pytest.param(PHQ9, [0] * 10, id="phq9 ten answers"),
        pytest.param(PHQ9, [], id="phq9 no answers"),
        pytest.param(GAD7, [0] * 6, id="gad7 six answers"),
        pytest.param(GAD7, [0] * 9, id="gad7 the phq9's nine answers"),
        pytest.param(PHQ9, [0, 0, 0, 0, 0, 0, 0, 0, 4], id="phq9 a four"),
        pytest.param(PHQ9, [0, 0, 0, 0, -1, 0, 0, 0, 0], id="phq9 a minus one"),
        pytest.param(GAD7, [3, 3, 3, 3, 3, 3, 10], id="gad7 a ten"),
        pytest.param(GAD7, [0, 0, 0, "1", 0, 0, 0], id="gad7 a string"),
        pytest.param(GAD7, [0, 0, 0, None, 0, 0, 0], id="gad7 a blank"),
    ],
)
def test_it_refuses_to_score_a_wrong_number_of_answers_or_values_outside_0_to_3(
    questionnaire, answers
):
    with pytest.raises(ValueError, match=questionnaire.code):
        questionnaire.score(answers)
