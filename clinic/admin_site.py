"""The admin site every admin registers on (ClinicAdminConfig makes it the
default), so that what it adds reaches every list, allauth's included.

Bad filter values on a list: Django turns many of them into a redirect to
the unfiltered list (`?e=1`, IncorrectLookupParameters), but not all:
a NUL byte reaches PostgreSQL, which refuses it in any text (DataError), and
a date-hierarchy year near or past 9999 overflows Python's dates. Both
answered 500. Here they take Django's own path, and the person is told;
the select boxes' search (autocomplete) answers 400 to a NUL byte."""

from contextvars import ContextVar
from functools import cache, update_wrapper

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.http import HttpResponseBadRequest
from django.utils.translation import gettext_lazy as _

BAD_FILTER_MESSAGE = _("That filter is not valid: the whole list is shown.")


class BadFiltersChangeListMixin:
    def get_filters(self, request):
        # Checked on the whole query string, before any query: PostgreSQL never
        # accepts a NUL in text, whatever the field, and the search box (`q`)
        # reaches the database as well as the filters do.
        if any("\x00" in key or "\x00" in value for key, value in _items(request.GET)):
            raise IncorrectLookupParameters("NUL byte in the query string")
        try:
            return super().get_filters(request)
        except (OverflowError, ValueError) as exc:
            # The date hierarchy's bounds: a year of 9999 has no "next year",
            # and a huge one does not fit a date at all.
            raise IncorrectLookupParameters(exc) from exc


class BadFiltersAdminMixin:
    def get_changelist(self, request, **kwargs):
        return _refusing_bad_filters(super().get_changelist(request, **kwargs))

    def get_changelist_instance(self, request):
        try:
            return super().get_changelist_instance(request)
        except IncorrectLookupParameters:
            # Django answers with a redirect to the unfiltered list; say why.
            self.message_user(request, BAD_FILTER_MESSAGE, messages.WARNING)
            raise


# The request an admin page is being made for, while it is made (its
# template rendered included): what a read-only field's link asks about.
_admin_request: ContextVar = ContextVar("admin_request", default=None)


class ClinicAdminSite(admin.AdminSite):
    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        def with_request(request, *args, **kwargs):
            token = _admin_request.set(request)
            try:
                response = inner(request, *args, **kwargs)
                # Rendered here, while the request is known, not after the view returns.
                if hasattr(response, "render") and not response.is_rendered:
                    response.render()
                return response
            finally:
                _admin_request.reset(token)

        return update_wrapper(with_request, inner)

    def may_open(self, request, obj) -> bool:
        """Whether a link to `obj`'s admin page leads somewhere for this
        person: its admin lets them see it, and it is one of their rows
        (their clinics'), so the link is neither a 403 nor "not found"."""
        model_admin = self._registry.get(type(obj))
        if model_admin is None or not model_admin.has_view_or_change_permission(request, obj):
            return False
        return model_admin.get_queryset(request).filter(pk=obj.pk).exists()

    def register(self, model_or_iterable, admin_class=None, **options):
        # Every admin, ours and the installed apps', gets the mixin here, so no
        # list can be left without it.
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, BadFiltersAdminMixin):
            admin_class = type(
                admin_class.__name__,
                (BadFiltersAdminMixin, admin_class),
                {"__module__": admin_class.__module__},
            )
        super().register(model_or_iterable, admin_class, **options)

    def autocomplete_view(self, request):
        # The search term of the admin's select boxes reaches PostgreSQL the
        # same way the list's search does; a NUL byte there is refused outright.
        if any("\x00" in key or "\x00" in value for key, value in _items(request.GET)):
            return HttpResponseBadRequest(BAD_FILTER_MESSAGE)
        return super().autocomplete_view(request)


@cache
def _refusing_bad_filters(changelist):
    """The admin's own ChangeList class (Django's, or the admin's subclass)
    with the mixin: one class each, made once."""
    if issubclass(changelist, BadFiltersChangeListMixin):
        return changelist
    return type(changelist.__name__, (BadFiltersChangeListMixin, changelist), {})


def _items(query):
    for key, values in query.lists():
        for value in values:
            yield key, value


_django_get_admin_url = helpers.AdminReadonlyField.get_admin_url


def _get_admin_url(self, remote_field, remote_obj):
    """A read-only field naming another record (an intake call's appointment
    and course, an event's author) links to that record's admin page only
    where the reader may open it; otherwise it is plain text. Django links
    it for everyone, and staff met 403 pages behind those links."""
    request = _admin_request.get()
    site = self.model_admin.admin_site
    if (
        request is not None
        and isinstance(site, ClinicAdminSite)
        and not site.may_open(request, remote_obj)
    ):
        return str(remote_obj)
    return _django_get_admin_url(self, remote_field, remote_obj)


helpers.AdminReadonlyField.get_admin_url = _get_admin_url
