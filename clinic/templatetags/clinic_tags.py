from django import template

from clinic.formatting import local_when

register = template.Library()


@register.filter
def when_at(moment, clinic):
    """`{{ appointment.start|when_at:clinic }}`: the moment in the clinic's time."""
    return local_when(moment, clinic) if moment else ""


@register.filter
def label_of(labels, value):
    """`{{ stage_labels|label_of:course.stage }}`: a choice's label from a dict
    the view builds once, where a list would call get_FOO_display per row
    (which rebuilds the field's choices on every call)."""
    return labels.get(value, value)


@register.simple_tag(takes_context=True)
def staff_nav(context):
    """The staff pages every app registered (clinic.navigation), the current
    one marked: the same for everyone of a role, in a language, on a page,
    so rendered once per process for each (clinic.navigation.staff_nav_html)."""
    from clinic.navigation import staff_nav_html

    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    # The profile comes with the person (clinic.backends): no query.
    profile = getattr(getattr(request, "user", None), "staff_profile", None)
    return staff_nav_html(profile.role if profile else None, match.view_name if match else "")


@register.inclusion_tag("portal/_links.html")
def portal_links():
    """The portal pages stage apps registered (clinic.navigation)."""
    from clinic.navigation import portal_pages

    return {"pages": portal_pages()}
