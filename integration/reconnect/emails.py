"""The care team told of a further-treatment request: one e-mail per
clinician and coordinator of the clinic, with a link to the new course."""

from django.urls import reverse

from clinic import outbox
from clinic.emails import absolute, send_templated
from clinic.models import StaffProfile, StaffRole, User
from clinic.permissions import works_at

from . import services
from .models import FurtherTreatmentRequest

TOLD = (StaffRole.THERAPIST, StaffRole.MEDICAL_PRACTITIONER, StaffRole.COORDINATOR)


def _request(message) -> FurtherTreatmentRequest | None:
    return (
        FurtherTreatmentRequest.objects.select_related("new_course__clinic")
        .filter(uuid=message.payload["request"])
        .first()
    )


@outbox.handler(services.FURTHER_TREATMENT_NOTICE)
def fan_out_further_treatment(message) -> bool:
    request = _request(message)
    if request is None:
        return False
    people = list(
        StaffProfile.objects.filter(
            clinics=request.new_course.clinic, role__in=TOLD, user__is_active=True
        )
        .order_by("user_id")
        .values_list("user_id", flat=True)
    )
    outbox.fan_out(message, kind=services.FURTHER_TREATMENT_NOTICE_ONE, people=people or [None])
    return True


@outbox.handler(services.FURTHER_TREATMENT_NOTICE_ONE)
def send_further_treatment(message) -> bool:
    request = _request(message)
    if request is None:
        return False
    clinic = request.new_course.clinic
    person_id = message.payload["person"]
    if person_id is None:
        to, language = clinic.email, ("fr" if clinic.province == "QC" else "en")
    else:
        person = User.objects.filter(pk=person_id, is_active=True).first()
        if person is None or not works_at(person, clinic.pk):
            return False
        to, language = person.email, person.preferred_language
    send_templated(
        to=to,
        language=language,
        template="integration/reconnect/email/further_treatment",
        context={
            "clinic": clinic,
            "request": request,
            "url": absolute(reverse("staff:course", args=[request.new_course.uuid])),
        },
    )
    return True
