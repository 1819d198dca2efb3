"""The upload of a session's recording: its form, and the upload handler
that streams the file to disk as it arrives (never into memory), hashing
and counting it on the way, and stops it as soon as it is too large or its
first bytes are not the video its name says."""

import hashlib

from django import forms
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.forms.utils import ErrorDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from ..services.recordings import (
    EXTENSION_FAMILIES,
    HEAD_BYTES,
    MSG_EMPTY,
    MSG_TOO_LARGE,
    TYPE_FAMILIES,
    RecordingError,
    recording_format,
)

MSG_CHOOSE_FILE = gettext_noop("Choose the video file to upload.")

ACCEPT = ",".join([*TYPE_FAMILIES, *EXTENSION_FAMILIES])


class RecordingUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Video file"),
        help_text=gettext_lazy("MP4, QuickTime, WebM, Matroska or Ogg."),
        error_messages={"required": gettext_lazy(MSG_CHOOSE_FILE)},
        widget=forms.FileInput(attrs={"accept": ACCEPT}),
    )

    def refuse(self, message: str) -> None:
        """The file was refused (by the upload handler or the service): that
        reason is the one error shown, not also "choose a file"."""
        self.cleaned_data = {}
        self._errors = ErrorDict()
        self.add_error("file", message)


class RecordingUploadHandler(FileUploadHandler):
    """Receives the form's `file` field into a temporary file on disk,
    with its SHA-256 and size computed chunk by chunk. Beyond `max_bytes`,
    or when the first bytes are not a video matching the file's name and
    declared type, it stops the upload (the rest of the body is read and
    dropped, so the page can answer) and keeps the reason in `error`.

    Set it on `request.upload_handlers` before anything reads the body."""

    field_name_accepted = "file"

    def __init__(self, request=None, *, max_bytes: int, max_megabytes: int):
        super().__init__(request)
        self.max_bytes = max_bytes
        self.max_megabytes = max_megabytes
        self.error: str | None = None
        self._receiving = False
        self._head = b""
        self._checked = False
        self._size = 0
        self._digest = hashlib.sha256()

    def new_file(self, field_name, file_name, *args, **kwargs):
        super().new_file(field_name, file_name, *args, **kwargs)
        # One file, in the one field: any other file part is dropped.
        self._receiving = field_name == self.field_name_accepted and not hasattr(self, "file")
        if self._receiving:
            self.file = TemporaryUploadedFile(
                self.file_name, self.content_type, 0, self.charset, self.content_type_extra
            )

    def receive_data_chunk(self, raw_data, start):
        if not self._receiving:
            return None
        self._size += len(raw_data)
        if self._size > self.max_bytes:
            self._stop(_(MSG_TOO_LARGE) % {"limit": self.max_megabytes})
        if not self._checked:
            self._head += raw_data[: HEAD_BYTES - len(self._head)]
            if len(self._head) >= HEAD_BYTES:
                self._check_type()
        self._digest.update(raw_data)
        self.file.write(raw_data)
        return None

    def file_complete(self, file_size):
        if not self._receiving:
            return None
        self._receiving = False
        if not file_size:
            self.error = _(MSG_EMPTY)
            self.file.close()
            return None
        if not self._checked:
            try:  # a file shorter than the bytes the check reads
                self._check_type()
            except StopUpload:
                self.file.close()  # removes the temporary file
                return None
        self.file.seek(0)
        self.file.size = file_size
        self.file.sha256 = self._digest.hexdigest()
        return self.file

    def _check_type(self) -> None:
        self._checked = True
        try:
            recording_format(
                name=self.file_name or "", declared_type=self.content_type or "", head=self._head
            )
        except RecordingError as exc:
            self._stop(str(exc))

    def _stop(self, message: str) -> None:
        self.error = message
        # connection_reset=False: the rest of the body is read and dropped, so
        # the person gets the page with the reason rather than a cut connection.
        raise StopUpload(connection_reset=False)
