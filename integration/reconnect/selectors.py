from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy

from clinic.journey import NextStep
from clinic.models import ClientProfile, Course, Stage

from .models import ContactPreferences, FurtherTreatmentRequest, IntegrationPlan


def course_plan(*, course: Course) -> IntegrationPlan | None:
    return IntegrationPlan.objects.filter(course=course).select_related("closed_by").first()


@dataclass(frozen=True)
class ReconnectPage:
    course: Course | None
    in_reconnect: bool
    request: FurtherTreatmentRequest | None
    peer_support: bool


def reconnect_page(*, client: ClientProfile) -> ReconnectPage:
    course = Course.objects.filter(client=client).order_by("-opened_at").first()
    made = None
    if course is not None:
        made = (
            FurtherTreatmentRequest.objects.filter(from_course=course).first()
            or FurtherTreatmentRequest.objects.filter(new_course=course).first()
        )
    preferences = ContactPreferences.objects.filter(client=client).first()
    return ReconnectPage(
        course=course,
        in_reconnect=course is not None and course.stage == Stage.RECONNECT,
        request=made,
        peer_support=preferences.peer_support if preferences else False,
    )


def reconnect_next_step(course: Course) -> NextStep | None:
    if FurtherTreatmentRequest.objects.filter(from_course=course).exists():
        return None
    return NextStep(
        gettext_lazy("Stay connected"),
        gettext_lazy(
            "Join an integration group, ask for further treatment, or tell us whether we may "
            "contact you about peer support or research."
        ),
        reverse("reconnect:portal"),
        gettext_lazy("Reconnect"),
    )
