"""The staff pages' navigation. The core lists its own page; each stage app
registers the staff pages it owns from its AppConfig.ready(), so the shared
staff template never names a stage app."""

from dataclasses import dataclass

from django.utils.functional import Promise


@dataclass(frozen=True)
class StaffPage:
    url_name: str
    label: str | Promise
    order: int
    # The staff roles whose work the page is (None: every staff member's).
    roles: frozenset[str] | None = None


_pages: dict[str, StaffPage] = {}


def register_staff_page(
    url_name: str, label: str | Promise, *, order: int, roles: set[str] | None = None
) -> None:
    _pages[url_name] = StaffPage(url_name, label, order, frozenset(roles) if roles else None)
    _nav_html.clear()


def staff_pages(role: str | None = None) -> list[StaffPage]:
    """The pages in the menu of a staff member of `role`: a link is shown
    only where its reader may follow it."""
    pages = [page for page in _pages.values() if page.roles is None or role in page.roles]
    return sorted(pages, key=lambda page: page.order)


# The menu as HTML by (role, language, URL prefix, current page): nothing in
# it belongs to a person, and rendering it (a link reversed per page) cost
# about half of the signed-in floor page on every staff page (issue 15).
_nav_html: dict[tuple, str] = {}
_NAV_KEPT = 2000


def staff_nav_html(role: str | None, current: str) -> str:
    from django.template.loader import render_to_string
    from django.urls import get_script_prefix
    from django.utils import translation

    key = (role, translation.get_language(), get_script_prefix(), current)
    html = _nav_html.get(key)
    if html is None:
        html = render_to_string("staff/_nav.html", {"pages": staff_pages(role), "current": current})
        if len(_nav_html) < _NAV_KEPT:
            _nav_html[key] = html
    return html


# The client portal's links to the pages of each stage app (its invoices...),
# registered the same way, so the portal's home never names a stage app.
_portal_pages: dict[str, StaffPage] = {}


def register_portal_page(url_name: str, label: str | Promise, *, order: int) -> None:
    _portal_pages[url_name] = StaffPage(url_name, label, order)


def portal_pages() -> list[StaffPage]:
    return sorted(_portal_pages.values(), key=lambda page: page.order)
