"""The admin site every admin registers on (ClinicAdminConfig makes it the
default), so that what it adds reaches every list, allauth's included.

Bad filter values on a list: Django turns many of them into a redirect to
the unfiltered list (`?e=1`, IncorrectLookupParameters), but not all:
a NUL byte reaches PostgreSQL, which refuses it in any text (DataError), and
a date-hierarchy year near or past 9999 overflows Python's dates. Both
answered 500. Here they take Django's own path, and the person is told;
the select boxes' search (autocomplete) answers 400 to a NUL byte."""

from functools import cache

from django.contrib import admin, messages
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


class ClinicAdminSite(admin.AdminSite):
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
