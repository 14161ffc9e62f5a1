"""Forms read as `request.form()` reads them, except that text which is not valid UTF-8
is kept recognisable instead of being decoded as something else.

Starlette decodes a multipart text field that is not valid UTF-8 as Latin-1, and a raw
(not percent-encoded) byte above 0x7F in an urlencoded body as Latin-1 too: "é" sent as
one Windows-1252 byte arrives as "é", invalid bytes arrive as plausible letters, and
nothing downstream can tell. Here every undecodable byte becomes U+FFFD, which
`web.text.clean` refuses with a message (422, or Open311's 400) while the rest of the form
is kept. Limits and errors are those of `request.form()`.

The two parsers below override one callback each of Starlette's (pinned to <2 in
pyproject.toml); tests/test_text_input.py sends both kinds of bad bytes, so a change in
Starlette shows there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing, asynccontextmanager
from urllib.parse import unquote_to_bytes

from python_multipart.multipart import parse_options_header
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.formparsers import FormParser, MultiPartException, MultiPartParser
from starlette.requests import Request


def _field_text(raw: bytes | bytearray) -> str:
    """One urlencoded name or value: '+' is a space, %XX a byte, the bytes UTF-8."""
    return unquote_to_bytes(bytes(raw).replace(b"+", b" ")).decode("utf-8", "replace")


class _UrlencodedParser(FormParser):
    def on_field_end(self) -> None:
        self._current_fields += 1
        if self._current_fields > self.max_fields:
            raise MultiPartException(
                f"Too many fields. Maximum number of fields is {self.max_fields}."
            )
        self._items.append((_field_text(self._field_name), _field_text(self._field_value)))


class _MultipartParser(MultiPartParser):
    # An uploaded file goes to a temporary file on disk after this many bytes (Starlette
    # keeps 1 MB in memory): 200 residents uploading at once then hold ~13 MB, not 200 MB,
    # while their photos wait for a slot (web/photo_gate.py).
    spool_max_size = 64 * 1024

    def on_part_end(self) -> None:
        part = self._current_part
        if part.file is not None:
            super().on_part_end()
            return
        self.items.append((part.field_name, bytes(part.data).decode(self._charset, "replace")))


async def read_form(
    request: Request,
    *,
    max_files: int = 1000,
    max_fields: int = 1000,
    max_part_size: int = 1024 * 1024,
) -> FormData:
    """The request's form (multipart or urlencoded), undecodable text as U+FFFD."""
    content_type, _options = parse_options_header(request.headers.get("content-type", ""))
    try:
        async with aclosing(request.stream()) as stream:
            if content_type == b"multipart/form-data":
                return await _MultipartParser(
                    request.headers,
                    stream,
                    max_files=max_files,
                    max_fields=max_fields,
                    max_part_size=max_part_size,
                ).parse()
            if content_type == b"application/x-www-form-urlencoded":
                return await _UrlencodedParser(
                    request.headers, stream, max_fields=max_fields, max_part_size=max_part_size
                ).parse()
    except MultiPartException as exc:
        raise HTTPException(400, detail=exc.message) from None
    return FormData()


@asynccontextmanager
async def open_form(
    request: Request,
    *,
    max_files: int = 1000,
    max_fields: int = 1000,
    max_part_size: int = 1024 * 1024,
) -> AsyncIterator[FormData]:
    """`read_form` whose uploaded files are closed when the block ends."""
    form = await read_form(
        request, max_files=max_files, max_fields=max_fields, max_part_size=max_part_size
    )
    try:
        yield form
    finally:
        await form.close()
