"""No input makes the screener fail: generated form data (random strings,
numbers, dates, lists, huge strings, missing and extra keys) posted to every
step and to the review. Nothing invalid is ever stored, and a screening is
only ever sent when every step holds valid answers."""

from datetime import date

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from django.http import QueryDict
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from eligibility import rules, screener
from eligibility.models import Screening
from eligibility.screener import EXAMPLE_ANSWERS

from .test_screener_flow import REVIEW, step_data, step_url

STEPS = screener.steps(screener.CURRENT)
SLUGS = [s.slug for s in STEPS]
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
# Fields a tampering client might add: the screening's own columns, the flag
# that leaves the screener, another step's fields, a tenth PHQ-9 item.
EXTRA_KEYS = [
    "status",
    "outcome",
    "reasons",
    "crisis_flag",
    "screener_version",
    "rules_version",
    "save_and_leave",
    "item_10",
    "date_of_birth",
    "safety_now",
    "phq9",
]

junk_scalar = st.one_of(
    st.text(max_size=40),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats().map(str),
    st.dates().map(date.isoformat),
    st.sampled_from(
        [
            "",
            " ",
            "-1",
            "4",
            "3.0",
            "١",  # an Arabic-Indic one
            "yes",
            "unsure",
            "2023-02-30",
            "1985-02-29",
            "31/12/1990",
            "0000-00-00",
            "9999-12-31",
            "\x00",
            "null",
            "[]",
            "<script>alert(1)</script>",
        ]
    ),
    # Huge strings, below the request size limit so the form itself must refuse them.
    st.integers(min_value=2001, max_value=150_000).map(lambda n: "é" * n),
)
junk = st.one_of(junk_scalar, st.lists(junk_scalar, max_size=3))


def _valid(name, field):
    if name == "date_of_birth":
        return st.dates(min_value=date(1910, 1, 1), max_value=date(2008, 1, 1)).map(date.isoformat)
    if hasattr(field, "choices"):
        keys = [str(k) for k, _label in field.choices]
        if field.widget.allow_multiple_selected:
            return st.lists(st.sampled_from(keys), unique=True, max_size=len(keys))
        return st.sampled_from(keys)
    return st.text(max_size=200)


MISSING = object()


@st.composite
def step_post(draw, step):
    """A POST for `step`: mostly valid fields, some junk, some left out, maybe extra keys."""
    data = {}
    for name, field in step.form.base_fields.items():
        value = draw(st.one_of(*[_valid(name, field)] * 5, junk, st.just(MISSING)))
        if value is not MISSING:
            data[name] = value
    data.update(draw(st.dictionaries(st.sampled_from(EXTRA_KEYS), junk, max_size=2)))
    return data


any_target = st.one_of(
    st.sampled_from(STEPS).flatmap(lambda s: st.tuples(st.just(step_url(s.slug)), step_post(s))),
    st.tuples(st.just(REVIEW), st.dictionaries(st.sampled_from(EXTRA_KEYS), junk, max_size=3)),
    st.tuples(
        st.from_regex(r"\A[-a-z0-9_]{1,30}\Z").map(step_url),
        st.dictionaries(st.sampled_from(EXTRA_KEYS), junk, max_size=3),
    ),
)


def as_querydict(data: dict) -> QueryDict:
    """What the view's request.POST holds for `data`."""
    q = QueryDict(mutable=True)
    for key, value in data.items():
        values = value if isinstance(value, list) else [value]
        if values:
            q.setlist(key, values)
    return q


def body_size(data: dict) -> int:
    return sum(
        len(str(v).encode())
        for value in data.values()
        for v in (value if isinstance(value, list) else [value])
    )


def assert_stored_answers_are_valid(client_profile):
    for screening in Screening.objects.filter(course__client=client_profile):
        for step in STEPS:
            if hasattr(step.form, "questionnaire"):
                present = step.form.questionnaire.code in screening.answers
            else:
                present = any(name in screening.answers for name in step.form.base_fields)
            if present:
                form = step.form(data=as_querydict(step_data(step, screening.answers)))
                assert form.is_valid(), (step.slug, form.errors)
        if screening.status == Screening.Status.SUBMITTED:
            assert screener.missing_steps(screening.screener_version, screening.answers) == []
            assert screening.outcome in {"likely_eligible", "needs_review", "not_eligible"}


def prefill(client_profile, answers: dict) -> None:
    """A draft already holding these answers, as earlier visits left it."""
    course = client_profile.courses.get()
    Screening.objects.create(
        course=course,
        clinic=course.clinic,
        screener_version=screener.CURRENT,
        rules_version=rules.CURRENT,
        answers=answers,
    )


def answers_of(steps) -> dict:
    answers = {}
    for step in steps:
        if hasattr(step.form, "questionnaire"):
            code = step.form.questionnaire.code
            answers[code] = EXAMPLE_ANSWERS[code]
        else:
            answers.update({n: EXAMPLE_ANSWERS[n] for n in step.form.base_fields})
    return answers


def posted(client, url, data):
    response = client.post(url, data)
    assert response.status_code < 500, (url, response.status_code)
    if body_size(data) < django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 2:
        assert response.status_code != 400, url
    return response


@pytest.fixture
def web(client, client_a):
    client.force_login(client_a.user)
    return client


@FUZZ
@given(
    answered=st.sets(st.sampled_from(SLUGS)),
    requests=st.lists(any_target, min_size=1, max_size=4),
)
def test_no_input_to_any_step_or_the_review_gives_a_server_error(web, client_a, answered, requests):
    with transaction.atomic():
        prefill(client_a, answers_of(s for s in STEPS if s.slug in answered))
        for url, data in requests:
            posted(web, url, data)
        posted(web, REVIEW, {})
        assert web.get(REVIEW).status_code in (200, 302)
        assert_stored_answers_are_valid(client_a)
        transaction.set_rollback(True)


@FUZZ
@given(
    step=st.sampled_from(STEPS).flatmap(lambda s: st.tuples(st.just(s), step_post(s))),
    tampering=st.dictionaries(st.sampled_from(EXTRA_KEYS), junk, max_size=3),
)
def test_a_screening_is_sent_only_when_every_step_is_valid(web, client_a, step, tampering):
    step, data = step
    with transaction.atomic():
        prefill(client_a, answers_of(s for s in STEPS if s is not step))
        response = posted(web, step_url(step.slug), data)
        step_is_valid = step.form(data=as_querydict(data)).is_valid()
        assert (response.status_code == 302) == step_is_valid

        posted(web, REVIEW, tampering)

        screening = Screening.objects.get(course__client=client_a)
        sent = screening.status == Screening.Status.SUBMITTED
        event("sent" if sent else "refused")
        # Every step must have been sent, even one of optional questions (medications).
        assert sent == step_is_valid
        assert_stored_answers_are_valid(client_a)
        if not sent:
            assert screening.outcome == ""
        transaction.set_rollback(True)


def test_the_example_answers_post_as_valid_steps():
    for step in STEPS:
        assert step.form(data=as_querydict(step_data(step, EXAMPLE_ANSWERS))).is_valid()
