"""Every integration-group form fed generated data: no response is a
server error, and a refused form changes nothing. (Not wrapped in a
transaction per example as tests/test_fuzz_forms.py does: the group
services open durable transactions of their own.)"""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.apps import apps
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic.models import Stage
from clinic.signals import MFA_ACTIVATED_SESSION_KEY
from clinic.tests.factories import client_create
from tests.counting import rows_per_model
from tests.test_fuzz_forms import junk, reached_the_form, refused

from ..groups import services
from .group_factories import in_stage, weekly_group

MTL = ZoneInfo("America/Toronto")
MOMENT = datetime(2026, 6, 2, 18, 10, tzinfo=MTL)  # ten minutes into the first meeting

FORMS = {
    "group_new": (
        "new",
        [
            "name_en",
            "name_fr",
            "language",
            "capacity",
            "allowed_stages",
            "facilitators",
            "room",
            "video_link",
            "first_day",
            "starts_at",
            "ends_at",
            "interval",
            "ends",
            "count",
            "until",
        ],
        "coordinator",
    ),
    "group_edit": (
        "edit",
        ["name_en", "name_fr", "language", "capacity", "allowed_stages", "video_link", "is_open"],
        "coordinator",
    ),
    "meeting": ("meeting", ["action", "day", "starts_at", "ends_at"], "coordinator"),
    "attendance": ("attendance", ["e1", "e2", "e3"], "therapist"),
    "enrol": ("enrol", ["waitlist"], "client"),
}


def row_counts():
    return rows_per_model(
        m
        for m in apps.get_models()
        if m._meta.app_label in {"clinic", "integration"}
        and m._meta.label not in {"clinic.AccessLogEntry", "clinic.OutboxMessage"}
    )


@pytest.fixture
def places(clinic_qc, coordinator, therapist):
    from django.test import Client

    # Everything at the moment the examples are sent (the first meeting under way),
    # so the sessions are fresh then.
    with time_machine.travel(MOMENT, tick=False):
        group = weekly_group(clinic=clinic_qc, coordinator=coordinator, facilitators=[therapist])
        person = client_create(clinic=clinic_qc)
        in_stage(person, Stage.INTEGRATE)
        services.group_enrol(group=group, client=person)
        meeting = group.meetings.get(number=1)
        staff = {}
        for name, user in (("therapist", therapist), ("coordinator", coordinator)):
            # staff_login reuses one test client: each person gets their own here.
            TOTP.activate(user, generate_totp_secret())
            browser = Client(HTTP_ACCEPT_LANGUAGE="en")
            browser.force_login(user)
            session = browser.session
            session[MFA_ACTIVATED_SESSION_KEY] = True
            session.save()
            staff[name] = browser
        member = Client(HTTP_ACCEPT_LANGUAGE="en")
        member.force_login(client_create(clinic=clinic_qc).user)
    return {
        **staff,
        "client": member,
        "urls": {
            "new": "/staff/groups/new/",
            "edit": f"/staff/groups/{group.uuid}/edit/",
            "meeting": f"/staff/groups/meetings/{meeting.uuid}/",
            "attendance": f"/staff/groups/meetings/{meeting.uuid}/attendance/",
            "enrol": f"/portal/groups/{group.uuid}/enrol/",
        },
    }


FUZZ = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.mark.parametrize("form", sorted(FORMS))
@FUZZ
@given(data=st.data())
def test_no_group_form_answers_with_a_server_error(places, form, data):
    url, fields, who = FORMS[form]
    payload = data.draw(st.fixed_dictionaries({}, optional={name: junk for name in fields}))
    before = row_counts()
    with time_machine.travel(MOMENT, tick=False):
        response = places[who].post(places["urls"][url], payload)
    assert response.status_code < 500, (form, payload)
    assert reached_the_form(response), (form, response.status_code)
    if refused(response):
        assert row_counts() == before, (form, payload)
