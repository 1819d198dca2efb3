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


_pages: dict[str, StaffPage] = {}


def register_staff_page(url_name: str, label: str | Promise, *, order: int) -> None:
    _pages[url_name] = StaffPage(url_name, label, order)


def staff_pages() -> list[StaffPage]:
    return sorted(_pages.values(), key=lambda page: page.order)


# The client portal's links to the pages of each stage app (its invoices...),
# registered the same way, so the portal's home never names a stage app.
_portal_pages: dict[str, StaffPage] = {}


def register_portal_page(url_name: str, label: str | Promise, *, order: int) -> None:
    _portal_pages[url_name] = StaffPage(url_name, label, order)


def portal_pages() -> list[StaffPage]:
    return sorted(_portal_pages.values(), key=lambda page: page.order)
