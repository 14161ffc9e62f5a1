"""CSV downloads: every cell a spreadsheet could run as a formula neutralised (OWASP "CSV
injection"), rows written in chunks so an export streams, and the one response every
download is sent with."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

from starlette.responses import StreamingResponse

# Cells a spreadsheet would read as a formula (OWASP "CSV injection"), tab and CR included.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A value a spreadsheet will show as text, never run as a formula; numbers pass."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_chunk(rows: Iterable[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows([safe_cell(v) for v in row] for row in rows)
    return buffer.getvalue().encode("utf-8")


def csv_response(body: AsyncIterator[bytes], filename: str) -> StreamingResponse:
    return StreamingResponse(
        body,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
