"""A quota on what one form may upload, enforced while the request body is read.

Django stores uploaded files (in memory or in temporary files) as it parses a multipart body, before any
form sees them. :class:`QuotaUploadHandler` goes first in the request's upload handlers and stops the
parsing once the files together pass the quota: nothing more is stored, the rest of the body is read and
thrown away, and the request is marked (:func:`over_quota`) so the view answers 413 instead of working
on half the files. The handlers must be set before anything reads ``request.POST``, and the CSRF
middleware does: the views are ``csrf_exempt`` outside and ``csrf_protect`` inside (Django's documented
way to change upload handlers in a view).
"""

from __future__ import annotations

from typing import Any

from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest

_FLAG = "_okno_reception_over_quota"


class QuotaUploadHandler(FileUploadHandler):
    """Counts the bytes of all files of one request; stops the upload above ``quota``."""

    def __init__(self, request: HttpRequest, quota: int) -> None:
        super().__init__(request)
        self.quota = quota
        self.total = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.total += len(raw_data)
        if self.total > self.quota:
            setattr(self.request, _FLAG, True)
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int) -> Any:
        return None  # the next handlers build the file


def limit_uploads(request: HttpRequest, quota: int) -> None:
    request.upload_handlers.insert(0, QuotaUploadHandler(request, quota))


def over_quota(request: HttpRequest) -> bool:
    return bool(getattr(request, _FLAG, False))
