"""Pages of integration groups. Staff: the list, a new group and its
schedule, a group's page (members, waitlist, meetings, attendance rates),
one meeting (move, cancel) and its attendance sheet. Portal: the groups a
client may join, enrol or wait, and leave. Views parse, call one service or
selector, render; who is in a group is a logged read."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from clinic.access_log import access_log_record_many
from clinic.formatting import local_when
from clinic.models import ClientProfile
from clinic.permissions import client_required, staff_required

from . import selectors, services
from .forms import AttendanceForm, GroupCreateForm, GroupEditForm, MeetingMoveForm, meeting_initial
from .recurrence import RecurrenceError

# --- Staff -------------------------------------------------------------------------------------


@staff_required
@require_http_methods(["GET"])
def staff_list(request: HttpRequest) -> HttpResponse:
    page = selectors.staff_group_page(user=request.user, page=request.GET.get("page"))
    profile = getattr(request.user, "staff_profile", None)
    may_create = profile is not None and profile.role == "coordinator"
    return render(
        request,
        "integration/staff/group_list.html",
        {"page": page, "may_create": may_create or request.user.is_superuser},
    )


def _coordinator_clinic(request: HttpRequest):
    from sessions.selectors.board import board_clinics

    scope = board_clinics(user=request.user, clinic_slug=request.GET.get("clinic"))
    if scope is None:
        raise Http404
    clinic, clinics = scope
    if not services.is_coordinator_of(request.user, clinic.pk):
        raise PermissionDenied
    return clinic, clinics


@staff_required
@require_http_methods(["GET", "POST"])
def staff_new(request: HttpRequest) -> HttpResponse:
    clinic, clinics = _coordinator_clinic(request)
    form = GroupCreateForm(request.POST or None, clinic=clinic)
    conflicts: list = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            group = services.group_create(
                clinic=clinic,
                actor=request.user,
                name_en=data["name_en"],
                name_fr=data["name_fr"],
                theme_en=data["theme_en"],
                theme_fr=data["theme_fr"],
                language=data["language"],
                facilitators=list(data["facilitators"]),
                room=data["room"],
                video_link=data["video_link"],
                capacity=data["capacity"],
                allowed_stages=data["allowed_stages"],
                other_clinics_may_join=data["other_clinics_may_join"],
                schedule=form.schedule(),
            )
        except services.ScheduleConflicts as exc:
            conflicts = exc.conflicts
            form.add_error(None, str(exc))
        except (services.GroupError, RecurrenceError) as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("The group is scheduled: %(count)s meetings.")
                % {"count": group.meetings.count()},
            )
            return redirect("groups:staff_group", group_uuid=group.uuid)
    status = 409 if conflicts else (400 if request.method == "POST" else 200)
    return render(
        request,
        "integration/staff/group_new.html",
        {"form": form, "clinic": clinic, "clinics": clinics, "conflicts": conflicts},
        status=status,
    )


def _group_or_404(request: HttpRequest, group_uuid):
    group = selectors.staff_group(user=request.user, group_uuid=group_uuid)
    if group is None:
        raise Http404
    return group


@staff_required
@require_http_methods(["GET"])
def staff_group(request: HttpRequest, group_uuid) -> HttpResponse:
    group = _group_or_404(request, group_uuid)
    overview = selectors.group_overview(group=group)
    # Who is in a group at a ketamine clinic, and who came, is health information.
    access_log_record_many(
        actor=request.user,
        request=request,
        items=[(e.client, e) for e in overview.enrolments],
    )
    return render(
        request,
        "integration/staff/group_detail.html",
        {
            "group": group,
            "overview": overview,
            "may_edit": services.is_coordinator_of(request.user, group.clinic_id),
            "may_take_attendance": services.may_take_attendance(request.user, group),
        },
    )


@staff_required
@require_http_methods(["GET", "POST"])
def staff_edit(request: HttpRequest, group_uuid) -> HttpResponse:
    group = _group_or_404(request, group_uuid)
    if not services.is_coordinator_of(request.user, group.clinic_id):
        raise PermissionDenied
    form = GroupEditForm.for_group(group, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.group_update(group=group, actor=request.user, **form.changes())
        except services.GroupError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("The group is saved."))
            return redirect("groups:staff_group", group_uuid=group.uuid)
    return render(
        request,
        "integration/staff/group_edit.html",
        {"form": form, "group": group},
        status=400 if request.method == "POST" else 200,
    )


def _meeting_or_404(request: HttpRequest, meeting_uuid):
    meeting = selectors.staff_meeting(user=request.user, meeting_uuid=meeting_uuid)
    if meeting is None:
        raise Http404
    return meeting


@staff_required
@require_http_methods(["GET", "POST"])
def staff_meeting(request: HttpRequest, meeting_uuid) -> HttpResponse:
    meeting = _meeting_or_404(request, meeting_uuid)
    group = meeting.group
    clinic = group.clinic
    may_edit = services.is_coordinator_of(request.user, group.clinic_id)
    start = timezone.localtime(meeting.appointment.start, clinic.zone)
    end = timezone.localtime(meeting.appointment.end, clinic.zone)
    form = MeetingMoveForm(
        request.POST if request.POST.get("action") == "move" else None,
        clinic=clinic,
        initial=meeting_initial(start, end),
    )
    problem = ""
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied
        try:
            if request.POST.get("action") == "cancel":
                services.meeting_cancel(meeting=meeting, actor=request.user)
                messages.success(request, _("The meeting is cancelled; the others stay."))
                return redirect("groups:staff_group", group_uuid=group.uuid)
            if form.is_valid():
                new_start, new_end = form.span()
                services.meeting_move(
                    meeting=meeting, actor=request.user, start=new_start, end=new_end
                )
                messages.success(
                    request,
                    _("The meeting is moved to %(when)s.")
                    % {"when": local_when(new_start, clinic)},
                )
                return redirect("groups:staff_group", group_uuid=group.uuid)
        except services.GroupError as exc:
            problem = str(exc)
    return render(
        request,
        "integration/staff/meeting.html",
        {
            "meeting": meeting,
            "group": group,
            "start": start,
            "end": end,
            "form": form,
            "may_edit": may_edit,
            "is_cancelled": meeting.appointment.status == "cancelled",
            "problem": problem,
        },
        status=400 if request.method == "POST" else 200,
    )


@staff_required
@require_http_methods(["GET", "POST"])
def attendance(request: HttpRequest, meeting_uuid) -> HttpResponse:
    meeting = _meeting_or_404(request, meeting_uuid)
    group = meeting.group
    if not services.may_take_attendance(request.user, group):
        raise PermissionDenied
    rows = selectors.attendance_sheet(meeting=meeting)
    access_log_record_many(
        actor=request.user, request=request, items=[(r.enrolment.client, r.enrolment) for r in rows]
    )
    form = AttendanceForm(request.POST or None, rows=rows)
    if request.method == "POST" and form.is_valid():
        try:
            services.attendance_take(meeting=meeting, actor=request.user, marks=form.marks())
        except services.GroupError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Attendance is saved."))
            return redirect("groups:attendance", meeting_uuid=meeting.uuid)
    return render(
        request,
        "integration/staff/attendance.html",
        {
            "meeting": meeting,
            "group": group,
            "start": timezone.localtime(meeting.appointment.start, group.clinic.zone),
            "form": form,
        },
        status=400 if request.method == "POST" else 200,
    )


# --- Portal ------------------------------------------------------------------------------------


def _client(request: HttpRequest) -> ClientProfile:
    client = ClientProfile.objects.filter(user=request.user).select_related("clinic").first()
    if client is None:
        raise Http404
    return client


@client_required
@require_http_methods(["GET"])
def portal_list(request: HttpRequest) -> HttpResponse:
    client = _client(request)
    return render(
        request,
        "integration/portal/groups.html",
        {"groups": selectors.portal_groups(client=client)},
    )


@client_required
@require_POST
def portal_enrol(request: HttpRequest, group_uuid) -> HttpResponse:
    client = _client(request)
    group = selectors.portal_group(client=client, group_uuid=group_uuid)
    if group is None:
        raise Http404
    try:
        enrolment = services.group_enrol(
            group=group, client=client, waitlist=request.POST.get("waitlist") == "1"
        )
    except services.GroupError as exc:
        messages.error(request, str(exc))
    else:
        if enrolment.status == enrolment.Status.ENROLLED:
            messages.success(request, _("You are enrolled. See you at the next meeting."))
        else:
            messages.success(
                request,
                _("You are on the waitlist, at position %(position)s.")
                % {"position": services.waitlist_position(enrolment)},
            )
    return redirect("groups:portal_list")


@client_required
@require_POST
def portal_leave(request: HttpRequest, enrolment_uuid) -> HttpResponse:
    client = _client(request)
    enrolment = selectors.portal_enrolment(client=client, enrolment_uuid=enrolment_uuid)
    if enrolment is None:
        raise Http404
    try:
        services.group_leave(enrolment=enrolment)
    except services.GroupError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("You have left the group."))
    return redirect("groups:portal_list")
