"""Open311 GeoReport v2 documents, and their JSON and XML from one plain-Python description.

Handlers build dicts and lists; this module turns them into either format the way the
standard maps one onto the other: a list is a bare JSON array and, in XML, a wrapper whose
children are named after the wrapper (`services` → `service`, `service_requests` →
`request`); booleans are `true`/`false`; an empty list is an empty wrapper element.
XML is built with ElementTree, which escapes text; characters XML 1.0 cannot carry at all
(most control characters) are dropped, so a stray byte in a description cannot make the
whole document unreadable.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.responses import Response

from web import codes, lifecycle
from web.clock import from_text
from web.i18n import gettext as _
from web.i18n import translate
from web.lifecycle import timeline
from web.settings import Settings

BASE = "/open311/v2"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When this API last changed in a way clients may notice (discovery's `changeset`).
CHANGESET = "2026-11-23T00:00:00Z"

CONTENT_TYPES = {
    "json": "application/json; charset=utf-8",
    "xml": "text/xml; charset=utf-8",
}
XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
# The element name of the items of each list, by the list's (wrapper's) name.
ITEM_NAMES = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "media_urls": "media_url",
    "notes": "note",
}
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def iso_time(stored: str | None, tz: str) -> str:
    """A stored UTC time as ISO 8601 in the city's zone, e.g. 2026-11-22T14:05:00+07:00."""
    if not stored:
        return ""
    return from_text(stored).astimezone(ZoneInfo(tz)).isoformat(timespec="seconds")


def iso_moment(moment: datetime, tz: str) -> str:
    return moment.astimezone(ZoneInfo(tz)).isoformat(timespec="seconds")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return _NOT_XML.sub("", str(value))


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, Mapping):
        for name, child in value.items():
            _fill(ET.SubElement(element, name), child)
    elif isinstance(value, list | tuple):
        item_name = ITEM_NAMES[element.tag]
        for item in value:
            _fill(ET.SubElement(element, item_name), item)
    else:
        element.text = _text(value)


def to_xml(root: str, document: Any) -> bytes:
    """`document` (a list or a mapping) under the root element `root`, with the declaration."""
    element = ET.Element(root)
    _fill(element, document)
    return (XML_DECLARATION + ET.tostring(element, encoding="unicode")).encode("utf-8")


def to_json(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8", errors="replace"
    )


def respond(
    fmt: str,
    root: str,
    document: Any,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A document in the requested format; `root` names the XML wrapper or root element."""
    body = to_xml(root, document) if fmt == "xml" else to_json(document)
    # Public, cookie-less data: browser apps of other sites (a city dashboard) may read it.
    # Writes stay closed to other sites' browsers (CrossOriginProtectionMiddleware).
    merged = {"Cache-Control": "no-store", "Access-Control-Allow-Origin": "*", **(headers or {})}
    return Response(body, status_code=status_code, media_type=CONTENT_TYPES[fmt], headers=merged)


def errors(
    fmt: str, status_code: int, *descriptions: str, headers: Mapping[str, str] | None = None
) -> Response:
    """The standard's error list: one `error` per description, each with the status code."""
    document = [{"code": status_code, "description": text} for text in descriptions]
    return respond(fmt, "errors", document, status_code=status_code, headers=headers)


# --- the documents -----------------------------------------------------------------------------


def discovery_document(settings: Settings) -> dict[str, Any]:
    changeset = iso_time(CHANGESET, settings.timezone)
    return {
        "changeset": changeset,
        "contact": f"Admin Aduan, {settings.base_url}",
        "key_service": f"API keys are issued by the Aduan administrators of {settings.base_url}",
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": settings.base_url + BASE,
                "changeset": changeset,
                "type": "test" if settings.debug else "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }


def service_document(row: Any) -> dict[str, Any]:
    """A category as an Open311 service, named in Bahasa Indonesia."""
    return {
        "service_code": row["code"],
        "service_name": row["name_id"],
        "description": row["description_id"],
        # every service has a definition: the kelurahan attribute Aduan needs
        "metadata": True,
        "type": "realtime",
        "keywords": row["keywords"],
        "group": row["group_id"],
    }


def service_definition_document(row: Any, *, located: bool = False) -> dict[str, Any]:
    """Aduan routes every report to a kelurahan. `located`: boundaries are loaded, so
    lat/long inside them name it and the attribute is optional; without them the client
    names it, so every service requires this one attribute."""
    return {
        "service_code": row["code"],
        "attributes": [
            {
                "variable": True,
                "code": "kelurahan",
                "datatype": "string",
                "required": not located,
                "datatype_description": _("Kode wilayah kelurahan Kemendagri, mis. 31.71.01.1001"),
                "order": 1,
                "description": _("Kelurahan/desa tempat masalah berada"),
                "values": [],
            }
        ],
    }


def request_document(
    row: Any, events: list[Any], photos: list[Any], settings: Settings, extensions: bool
) -> dict[str, Any]:
    """One `request`, from the public row, public events and public photos only
    (db/open311.py selects what is public; nothing personal reaches this function)."""
    tz = settings.timezone
    public = timeline.public_notes(events)
    notes = [n.public_note for n in public if n.public_note]
    in_order = timeline.group_photos(events, photos).in_order(events)
    photo_urls = [f"{settings.base_url}/foto/{p['sha256']}.jpg" for p in in_order]
    media_urls = photo_urls + ([row["media_url"]] if row["media_url"] else [])
    document: dict[str, Any] = {
        "service_request_id": codes.display(row["code"]),
        "status": "open" if row["status"] in lifecycle.OPEN_STATUSES else "closed",
        "status_notes": notes[-1] if notes else "",
        "service_name": row["service_name"],
        "service_code": row["category_code"],
        "description": row["description"],
        "agency_responsible": row["agency_name"],
        "service_notice": "",
        "requested_datetime": iso_time(row["received_at"], tz),
        "updated_datetime": iso_time(row["updated_at"], tz),
        "expected_datetime": iso_time(row["resolution_due_at"], tz),
        "address": ", ".join(part for part in (row["address"], row["rt_rw"]) if part),
        "address_id": "",
        "zipcode": "",
    }
    # Hidden coordinates (anonymous report, position from a photo) are left out entirely.
    if row["lat"] is not None and row["lon"] is not None:
        document["lat"] = row["lat"]
        document["long"] = row["lon"]
    document["media_url"] = media_urls[0] if media_urls else ""
    if extensions:
        document["extended_attributes"] = {
            "channel": row["channel"],
            "media_urls": media_urls,
            "notes": [
                {
                    "datetime": iso_time(n.at, tz),
                    "description": n.public_note or translate(n.label),
                    "type": n.kind,
                }
                for n in public
            ],
        }
    return document
