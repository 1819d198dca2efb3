"""The staff e-mails the outbox sends for screenings: one row per person, so
a retry after a failed send never e-mails again the people already told."""

from datetime import timedelta
from smtplib import SMTPException

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone

from clinic import outbox
from clinic.models import OutboxMessage
from eligibility import screener, services
from eligibility.screener import EXAMPLE_ANSWERS


def _signal_a_risk(client_profile):
    services.screening_save_step(
        screening=services.screening_start(client=client_profile),
        step=screener.steps(screener.CURRENT)[-1],
        answers={"safety_now": "yes"},
    )


def _send_a_screening(client_profile):
    screening = services.screening_start(client=client_profile)
    for step in screener.steps(screening.screener_version):
        screening, _crisis = services.screening_save_step(
            screening=screening, step=step, answers=EXAMPLE_ANSWERS
        )
    services.screening_submit(screening=screening)


@pytest.mark.parametrize(
    ("cause", "subject"),
    [(_signal_a_risk, "URGENT"), (_send_a_screening, "waiting for review")],
    ids=["crisis alert", "screening to review"],
)
def test_a_send_that_fails_once_is_retried_without_e_mailing_the_others_again(
    client_a, therapist, medical_practitioner, monkeypatch, cause, subject
):
    cause(client_a)
    real_send = EmailMultiAlternatives.send
    sends = []

    def second_send_fails_once(self, *args, **kwargs):
        sends.append(self.to)
        if len(sends) == 2:
            raise SMTPException("the mail server hung up")
        return real_send(self, *args, **kwargs)

    monkeypatch.setattr(EmailMultiAlternatives, "send", second_send_fails_once)

    assert outbox.outbox_sweep().retried == 1
    outbox.outbox_sweep(now=timezone.now() + timedelta(hours=1))  # after the back-off

    told = sorted(r for m in mail.outbox if subject in m.subject for r in m.to)
    assert told == sorted([therapist.email, medical_practitioner.email])
    assert not OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING).exists()


def test_a_clinician_who_left_before_the_send_is_not_e_mailed(
    client_a, therapist, medical_practitioner
):
    _signal_a_risk(client_a)
    outbox.outbox_sweep(limit=1)  # the fan-out: one row per clinician
    medical_practitioner.is_active = False
    medical_practitioner.save(update_fields=["is_active"])
    outbox.outbox_sweep()
    assert [m.to for m in mail.outbox] == [[therapist.email]]
