"""The room board's repeated parts, rendered in Python once per room.

A day shows six rooms of some twenty free half-hours each, thirty bookings
twice (the grid and the list): through template tags, filters and `with`
blocks per cell, rendering them was most of the page's time (issue 15). The
HTML and the translated strings are those the templates had."""

import html

from django import template
from django.urls import reverse
from django.utils.dateformat import format as date_format
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from clinic.formatting import choice_label
from clinic.models import Appointment

register = template.Library()


def _html(template: str, *args) -> SafeString:
    """What format_html gives (each argument escaped unless already safe),
    without the lazy-string checks around each escape: the day's board
    builds some three hundred of these."""
    return mark_safe(  # noqa: S308  # nosec B308, B703: every argument escaped here
        template.format(
            *(arg.__html__() if hasattr(arg, "__html__") else html.escape(str(arg)) for arg in args)
        )
    )


def _joined(parts: list[SafeString]) -> SafeString:
    """Parts each built by _html, one a line."""
    return mark_safe("\n".join(parts))  # noqa: S308  # nosec B308, B703: safe parts


def _book_url(new_url: str, board, row, query: str) -> str:
    """The booking form for a free time, as the template built it."""
    return f"{new_url}?clinic={board.clinic.slug}&kind={row.kind}&room={row.room_id}&{query}"


def _status_display(appointment) -> str:
    return choice_label(Appointment, "status", appointment.status)


@register.simple_tag
def board_row_cells(board, row, new_url: str) -> SafeString:
    """A room's free half-hours on the grid: a link to book each one still
    ahead, an empty cell for the past."""
    room = row.room
    parts = []
    for cell in row.cells:
        if cell.bookable:
            url = _book_url(new_url, board, row, cell.query)
            parts.append(
                _html(
                    '<a class="free-cell gs-{} gn-{}" data-testid="free-{}-{}" href="{}" '
                    'hx-get="{}" hx-target="#board-panel"><span class="plus" aria-hidden="true">'
                    '+</span><span class="visually-hidden">{}</span></a>',
                    cell.column,
                    cell.span,
                    room.pk,
                    date_format(cell.start, "Hi"),
                    url,
                    url,
                    _("Book %(room)s at %(time)s") % {"room": room.name, "time": cell.clock},
                )
            )
        else:
            parts.append(
                _html(
                    '<span class="free-cell past gs-{} gn-{}" aria-hidden="true"></span>',
                    cell.column,
                    cell.span,
                )
            )
    return _joined(parts)


# Reversed once per row, each booking's own uuid put in its place: the
# resolver's work per link was a tenth of the page (issue 15).
_UUID_SLOT = "00000000-0000-0000-0000-000000000000"


def _appointment_urls():
    """A function giving a booking's details URL, as reverse() gives it."""
    before, after = reverse("dosing:appointment", args=[_UUID_SLOT]).split(_UUID_SLOT)
    return lambda appointment: f"{before}{appointment.uuid}{after}"


@register.simple_tag
def board_row_blocks(row) -> SafeString:
    """A room's bookings on the grid, each followed by the room's cleaning."""
    parts = []
    appointment_url = _appointment_urls()
    for block in row.blocks:
        appointment = block.appointment
        url = appointment_url(appointment)
        status = (
            _html('<span class="visually-hidden">({})</span>', _status_display(appointment))
            if appointment.status != "booked"
            else ""
        )
        parts.append(
            _html(
                '<a class="board-block kind-{} status-{} gs-{} gn-{}" href="{}" hx-get="{}" '
                'hx-target="#board-panel" title="{}, {}, {}, {}">\n'
                '  <span class="block-kind">{}</span>\n'
                '  <span class="block-line">{} · {}</span>\n'
                '  <span class="block-line">{}</span>\n'
                "  {}\n"
                "</a>",
                appointment.kind,
                appointment.status,
                block.column,
                block.span,
                url,
                url,
                block.kind_label,
                block.times,
                block.initials,
                block.staff_names,
                block.kind_label,
                block.times,
                block.initials,
                block.staff_names,
                status,
            )
        )
        if block.buffer_span:
            cleaning = _("Cleaning until %(time)s") % {"time": block.buffer_until}
            parts.append(
                _html(
                    '<span class="board-buffer gs-{} gn-{}" title="{}">'
                    '<span class="visually-hidden">{}</span></span>',
                    block.column + block.span,
                    block.buffer_span,
                    cleaning,
                    cleaning,
                )
            )
    return _joined(parts)


@register.simple_tag
def board_row_items(board, row, new_url: str) -> SafeString:
    """A room's day as a list (small screens, the printed day sheet):
    bookings and free ranges in time order."""
    room = row.room
    if not row.items:
        return _html("<li>{}</li>", _("Nothing booked."))
    parts = []
    appointment_url = _appointment_urls()
    for item in row.items:
        if item.is_free:
            link = ""
            if item.bookable_from:
                url = _book_url(new_url, board, row, item.query)
                link = _html(
                    '<a class="book-link ms-1" href="{}" hx-get="{}" hx-target="#board-panel">'
                    "{}</a>",
                    url,
                    url,
                    _("Book %(room)s at %(time)s") % {"room": room.name, "time": item.clock},
                )
            parts.append(
                _html(
                    '<li class="list-free"><span class="list-time">{}</span> · {}\n  {}\n</li>',
                    item.times,
                    _("free"),
                    link,
                )
            )
            continue
        appointment = item.appointment
        url = appointment_url(appointment)
        notes = format_html_join(
            "",
            " · {}",
            [
                (text,)
                for text in (
                    _status_display(appointment) if appointment.status != "booked" else "",
                    _("cleaning until %(time)s") % {"time": item.buffer_until}
                    if item.buffer_end
                    else "",
                )
                if text
            ],
        )
        parts.append(
            _html(
                '<li class="kind-{}">\n'
                '  <a href="{}" hx-get="{}" hx-target="#board-panel"><span class="list-time">'
                "{}</span> · {} · {}</a>\n"
                '  <div class="small">{}{}</div>\n'
                "</li>",
                appointment.kind,
                url,
                url,
                item.times,
                item.kind_label,
                item.initials,
                item.staff_names,
                notes,
            )
        )
    return _joined(parts)
