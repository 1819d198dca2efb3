from django import template

from clinic.formatting import local_when

register = template.Library()


@register.filter
def when_at(moment, clinic):
    """`{{ appointment.start|when_at:clinic }}`: the moment in the clinic's time."""
    return local_when(moment, clinic) if moment else ""
