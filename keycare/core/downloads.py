"""Handing out a stored private file (web and API alike)."""

from typing import BinaryIO

from django.http import FileResponse

#: An inline file is shown in a document of its own that may load nothing and run nothing.
SANDBOX = "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox"


def private_file_response(
    handle: BinaryIO, *, filename: str, content_type: str, inline: bool = False
) -> FileResponse:
    """The file with the type it was stored with (browsers must not guess another), its name
    in UTF-8 (RFC 6266 `filename*`), as a download unless `inline`, and kept out of shared
    caches."""
    response = FileResponse(
        handle, as_attachment=not inline, filename=filename, content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = SANDBOX
    response["Cache-Control"] = "private, no-store"
    return response
