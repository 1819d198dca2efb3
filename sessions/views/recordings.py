"""Staff pages for the recordings of dosing sessions: a session's
recordings with the upload form (clinicians of the session's clinic), and
the download (also the dedicated permission, and re-authentication)."""

import logging
from pathlib import PurePosixPath

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from clinic.access_log import access_log_record
from clinic.models import AccessLogEntry
from clinic.permissions import staff_required

from ..forms.recordings import RecordingUploadForm, RecordingUploadHandler
from ..selectors import recordings as selectors
from ..services import recordings as services

logger = logging.getLogger(__name__)


# Django reads the body for the CSRF check before the view runs, with the
# default upload handlers (which would keep a large file whole on disk
# before any limit applies). The view sets its own handler first and checks
# CSRF itself right after (csrf_protect below): the documented way to
# change upload handlers per view.
@csrf_exempt
@staff_required
@require_http_methods(["GET", "POST"])
def session_recordings(request, session_uuid):
    session = selectors.recording_session(user=request.user, session_uuid=session_uuid)
    if session is None:
        raise Http404
    if not selectors.may_add_recordings(request.user, session):
        raise PermissionDenied
    handler = None
    if request.method == "POST":
        limit = selectors.dosing_settings(session.appointment.clinic).recording_max_megabytes
        handler = RecordingUploadHandler(
            request, max_bytes=limit * 1024 * 1024, max_megabytes=limit
        )
        request.upload_handlers = [handler]
    return _session_recordings(request, session=session, handler=handler)


@csrf_protect
def _session_recordings(request, *, session, handler):
    client = session.series.course.client
    form = RecordingUploadForm()
    if request.method == "POST":
        form = RecordingUploadForm(request.POST, request.FILES)
        if handler.error:
            form.refuse(handler.error)
        elif form.is_valid():
            try:
                recording, created = services.recording_add(
                    session=session, upload=form.cleaned_data["file"], actor=request.user
                )
            except services.RecordingError as exc:
                form.refuse(str(exc))
            else:
                access_log_record(
                    actor=request.user,
                    client=client,
                    obj=recording,
                    action=AccessLogEntry.Action.CHANGE,
                    request=request,
                )
                if created:
                    messages.success(request, _("The recording is stored."))
                else:
                    messages.info(
                        request, _("This recording was already stored: nothing was added.")
                    )
                return redirect("dosing:recordings", session_uuid=session.uuid)
    page = selectors.session_recordings_page(user=request.user, session=session)
    # The recordings of a client's dosing session are health information.
    access_log_record(actor=request.user, client=client, obj=session, request=request)
    return render(request, "sessions/recordings/session.html", {"page": page, "form": form})


@staff_required
@require_GET
def recording_download(request, recording_uuid):
    recording = selectors.recording_for_staff(user=request.user, recording_uuid=recording_uuid)
    if recording is None:
        raise Http404
    if not selectors.may_download_recordings(request.user, recording.session.appointment.clinic_id):
        raise PermissionDenied
    # Asked only of someone allowed to watch it: the password (or second
    # factor) again, whatever the session's age, before the film leaves.
    return _recording_stream(request, recording=recording)


@reauthentication_required
def _recording_stream(request, *, recording):
    try:
        file = services.recordings_storage().open(recording.storage_name, "rb")
    except FileNotFoundError:
        logger.error("recording %s: its file is missing from storage", recording.uuid)
        raise Http404 from None
    access_log_record(
        actor=request.user,
        client=recording.session.series.course.client,
        obj=recording,
        action=AccessLogEntry.Action.DOWNLOAD,
        request=request,
    )
    day = timezone.localdate(
        recording.session.appointment.start, recording.session.appointment.clinic.zone
    )
    extension = PurePosixPath(recording.storage_name).suffix
    response = FileResponse(
        file,
        as_attachment=True,
        filename=f"recording-{day:%Y-%m-%d}-{recording.uuid.hex[:8]}{extension}",
        content_type=recording.content_type,
    )
    # Set here whatever the site-wide middleware does: a film of a session
    # is never kept by a browser or proxy, never opened in the page, and
    # never read as anything but its declared type.
    response["Cache-Control"] = "no-store, private"
    response["X-Content-Type-Options"] = "nosniff"
    return response
