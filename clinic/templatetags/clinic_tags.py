from django import template

from clinic.formatting import local_when

register = template.Library()


@register.filter
def when_at(moment, clinic):
    """`{{ appointment.start|when_at:clinic }}`: the moment in the clinic's time."""
    return local_when(moment, clinic) if moment else ""


@register.inclusion_tag("staff/_nav.html", takes_context=True)
def staff_nav(context):
    """The staff pages every app registered (clinic.navigation), the current one marked."""
    from clinic.navigation import staff_pages

    match = getattr(context.get("request"), "resolver_match", None)
    return {"pages": staff_pages(), "current": match.view_name if match else ""}


@register.inclusion_tag("portal/_links.html")
def portal_links():
    """The portal pages stage apps registered (clinic.navigation)."""
    from clinic.navigation import portal_pages

    return {"pages": portal_pages()}
