"""What a rule of the lifecycle says when it refuses a change, and the one way that becomes
text for a person: `message(exc)`, used by every route that shows a refusal."""

from __future__ import annotations

from typing import Any

from web.i18n import lazy_gettext as N_
from web.i18n import translate
from web.lifecycle.rules import STATUS_LABELS

# The refusal when the report changed since the form was shown.
CHANGED_MEANWHILE = N_(
    "Laporan ini baru saja diubah petugas lain. Periksa keadaan terbarunya di bawah, "
    "lalu ulangi bila masih perlu."
)
# Parameters that name a status are shown as the status's name, in the reader's language.
_LABELLED_PARAMS = {"status": STATUS_LABELS}


class DomainError(Exception):
    """A rule refused the change; `message` is an Indonesian msgid, `params` fill it in."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


class IdempotencyMismatch(DomainError):
    """The same idempotency key came back with different content."""


class Conflict(DomainError):
    """Someone changed the report since the form was shown."""


def not_allowed(status: str) -> DomainError:
    """The refusal of an action the report's status does not allow."""
    return DomainError(
        N_("Tindakan ini tidak bisa dilakukan pada laporan berstatus %(status)s."), status=status
    )


def message(exc: DomainError) -> str:
    """The refusal in the current language, its parameters filled in (a status by its name)."""
    text = translate(exc.message)
    if not exc.params:
        return text
    params = dict(exc.params)
    for name, labels in _LABELLED_PARAMS.items():
        if params.get(name) in labels:
            params[name] = translate(labels[params[name]])
    return text % params
