"""Settings from the environment, read once and passed to `create_app`."""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from web.client import IPNetwork, parse_networks
from web.settings_checks import (
    PushHost,
    SettingsError,
    SmtpServer,
    messaging_settings,
    parse_push_hosts,
)

SECRET_FILE_NAME = "secret_key"  # noqa: S105 - a file name
SERVICE_WORKER_SOURCE = Path(__file__).resolve().parents[1] / "service_worker" / "sw.js"


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def load_or_create_secret(data_dir: Path) -> str:
    """The key stored in the data directory, created once with mode 0600 so that restarts
    keep sessions and private links valid."""
    path = data_dir / SECRET_FILE_NAME
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: two processes starting together agree on one key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key)
        fh.flush()
        os.fsync(fh.fileno())
    return key


# S3's rules for bucket names (the ones every S3-compatible store accepts).
_BUCKET_RE = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_PREFIX_PART_RE = re.compile(r"[A-Za-z0-9!_.*'()-]+")


@dataclass(frozen=True)
class S3Location:
    """Where photos are kept when ADUAN_PHOTO_STORE is `s3://bucket/prefix`, with how to
    reach and sign in to the store (the standard AWS variables and ADUAN_S3_ENDPOINT_URL).
    The keys stay out of repr(), so no log line or debug page shows them."""

    bucket: str
    prefix: str = ""
    endpoint_url: str = ""  # empty: AWS itself
    region: str = "us-east-1"
    access_key_id: str = field(default="", repr=False)
    secret_access_key: str = field(default="", repr=False)
    session_token: str = field(default="", repr=False)

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"


def parse_photo_store(
    value: str, env: dict[str, str], name: str = "ADUAN_PHOTO_STORE"
) -> S3Location:
    """An `s3://bucket/prefix` address and the S3 variables of `env`, checked; SettingsError
    says what is wrong. `name` is what the message calls the address (a variable or an
    option of `aduan migrate`)."""
    example = "s3://aduan-foto/kota-bogor"
    parts = urlsplit(value.strip())
    if parts.scheme != "s3":
        raise SettingsError(
            f"{name} must be an S3 address such as {example} (or unset for photos in "
            f"ADUAN_DATA_DIR/photos); got {value!r}"
        )
    if parts.username is not None or parts.password is not None:
        raise SettingsError(
            f"{name} holds no keys: give them in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )
    bucket = parts.netloc
    if not _BUCKET_RE.fullmatch(bucket) or ".." in bucket:
        raise SettingsError(
            f"{name} must name a bucket of 3 to 63 lowercase letters, digits, dots or "
            f"hyphens, e.g. {example} (got {bucket!r})"
        )
    if parts.query or parts.fragment or "?" in value or "#" in value:
        raise SettingsError(f"{name} takes no query or fragment, e.g. {example}")
    prefix = unquote(parts.path).strip("/")
    segments = prefix.split("/") if prefix else []
    if any(s in ("", ".", "..") or not _PREFIX_PART_RE.fullmatch(s) for s in segments):
        raise SettingsError(
            f"{name}: the folder after the bucket must be names of letters, digits and "
            f"-_.!*'() joined by single slashes, e.g. {example} (got {prefix!r})"
        )
    endpoint = (env.get("ADUAN_S3_ENDPOINT_URL") or "").strip().rstrip("/")
    if endpoint:
        end = urlsplit(endpoint)
        if end.scheme not in {"http", "https"} or not end.hostname or end.query:
            raise SettingsError(
                "ADUAN_S3_ENDPOINT_URL must be the http(s) address of the S3 API, e.g. "
                f"https://s3.kota.go.id or http://127.0.0.1:8333 (got {endpoint!r})"
            )
    key = (env.get("AWS_ACCESS_KEY_ID") or "").strip()
    secret = (env.get("AWS_SECRET_ACCESS_KEY") or "").strip()
    if bool(key) != bool(secret):
        raise SettingsError(
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together: set both (or neither, "
            f"to use the machine's own AWS role) for {name}"
        )
    region = (env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1").strip()
    return S3Location(
        bucket=bucket,
        prefix="/".join(segments),
        endpoint_url=endpoint,
        region=region,
        access_key_id=key,
        secret_access_key=secret,
        session_token=(env.get("AWS_SESSION_TOKEN") or "").strip(),
    )


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    # signs sessions and private links: kept out of repr(), so no log line or debug page shows it
    secret_key: str = field(repr=False)
    base_url: str = "http://localhost:8000"
    debug: bool = False
    timezone: str = "Asia/Jakarta"
    allowed_hosts: tuple[str, ...] = field(default=("*",))
    # periodic tasks (auto-close, sweeps) inside the server; tests switch them off
    run_tasks: bool = True
    # a resolved report the resident does not answer closes after this many working days
    # (LAPOR!: 10); 0 turns automatic closing off
    autoclose_workdays: int = 10
    # the contact details of a closed report are erased this many months after it closed
    # (UU PDP: a retention limit; web/personal_data.py)
    contact_retention_months: int = 12
    # seconds a request body may stall (no byte arriving) before the answer is 408
    body_timeout: float = 60.0
    # reverse proxies whose X-Forwarded-For is believed (web/client.py); none: the socket
    # address is the client
    trusted_proxies: tuple[IPNetwork, ...] = ()
    # the service worker's source; its content is part of the shell cache's version, so a
    # deployment that changes it replaces the phones' cached shell (web/routes/pwa.py)
    service_worker_source: Path = SERVICE_WORKER_SOURCE
    # ADUAN_DATABASE_URL: postgresql://user:password@host:port/dbname; empty: SQLite in the
    # data directory
    database_url: str = ""

    # ADUAN_PHOTO_STORE=s3://bucket/prefix: photos in an S3-compatible store (web/photo_store.py);
    # None: files under photo_dir
    photo_store: S3Location | None = None

    # ADUAN_VAPID_PRIVATE_KEY: the Web Push signing key shared by every app server (web/vapid.py);
    # empty: made once into the data directory
    vapid_private_key: str = field(default="", repr=False)
    # ADUAN_VAPID_SUBJECT: the contact every push service may reach the operator at (RFC 8292
    # `sub`), a mailto: or https: address; empty: the base URL
    vapid_subject: str = ""
    # ADUAN_PUSH_HOSTS: push services beyond the browsers' own (web/push.py KNOWN_PUSH_HOSTS)
    push_hosts: tuple[PushHost, ...] = ()

    # Gateways a city can switch on for the resident's messages and staff alerts
    # (web/gateways.py): email through SMTP, SMS and WhatsApp Business templates through an
    # HTTP gateway
    smtp: SmtpServer | None = None
    mail_from: str = ""
    sms_gateway_url: str = ""
    whatsapp_gateway_url: str = ""
    gateway_token: str = field(default="", repr=False)
    whatsapp_template: str = "aduan_update"
    whatsapp_alert_template: str = "aduan_peringatan"

    @property
    def message_channels(self) -> tuple[str, ...]:
        """The contact channels a sender is configured for, in web.contact.CHANNELS order."""
        on = {
            "whatsapp": bool(self.whatsapp_gateway_url),
            "sms": bool(self.sms_gateway_url),
            "email": self.smtp is not None,
        }
        return tuple(channel for channel, enabled in on.items() if enabled)

    @property
    def offered_channels(self) -> tuple[str, ...]:
        """What the form offers: WhatsApp always (without a gateway, staff send it by hand
        through wa.me), SMS and email only when their gateway is configured."""
        return ("whatsapp", *(c for c in self.message_channels if c != "whatsapp"))

    @property
    def db_path(self) -> Path:
        """The SQLite file (used when no database URL is set)."""
        return self.data_dir / "aduan.sqlite3"

    @property
    def database(self) -> str | Path:
        """What db.database.Database opens: the PostgreSQL URL, else the SQLite file."""
        return self.database_url or self.db_path

    @property
    def uses_sqlite(self) -> bool:
        return not self.database_url

    @property
    def photo_dir(self) -> Path:
        return self.data_dir / "photos"

    @property
    def origin(self) -> str:
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def push_subject(self) -> str:
        """The contact in every VAPID token (RFC 8292 `sub`)."""
        return self.vapid_subject or self.base_url

    @property
    def https(self) -> bool:
        return self.base_url.startswith("https://")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        data_dir = Path(env.get("ADUAN_DATA_DIR") or "./data").resolve()
        base_url = (env.get("ADUAN_BASE_URL") or "http://localhost:8000").rstrip("/")
        parts = urlsplit(base_url)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise SettingsError(
                f"ADUAN_BASE_URL must be a full http(s) address, e.g. https://aduan.kota.go.id "
                f"(got {base_url!r})"
            )
        secret = env.get("ADUAN_SECRET_KEY") or load_or_create_secret(data_dir)
        if len(secret) < 32:
            raise SettingsError("ADUAN_SECRET_KEY must be at least 32 characters long")
        hosts = tuple(
            h.strip() for h in (env.get("ADUAN_ALLOWED_HOSTS") or "").split(",") if h.strip()
        ) or (parts.hostname or "localhost", "localhost", "127.0.0.1")
        autoclose = (env.get("ADUAN_AUTOCLOSE_WORKDAYS") or "10").strip()
        if not (autoclose.isascii() and autoclose.isdigit()) or int(autoclose) > 365:
            raise SettingsError(
                "ADUAN_AUTOCLOSE_WORKDAYS must be a whole number of working days from 0 (off) "
                f"to 365 (got {autoclose!r})"
            )
        retention = (env.get("ADUAN_CONTACT_RETENTION_MONTHS") or "12").strip()
        if not (retention.isascii() and retention.isdigit()) or not 1 <= int(retention) <= 120:
            raise SettingsError(
                "ADUAN_CONTACT_RETENTION_MONTHS must be a whole number of months from 1 to 120: "
                "how long after a report closes its reporter's contact is kept "
                f"(got {retention!r})"
            )
        body_timeout = (env.get("ADUAN_BODY_TIMEOUT") or "60").strip()
        if not (body_timeout.isascii() and body_timeout.isdigit()) or not (
            1 <= int(body_timeout) <= 3600
        ):
            raise SettingsError(
                "ADUAN_BODY_TIMEOUT must be a whole number of seconds from 1 to 3600 "
                f"(got {body_timeout!r})"
            )
        timezone = env.get("ADUAN_TIMEZONE") or "Asia/Jakarta"
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise SettingsError(
                f"ADUAN_TIMEZONE must be a zone name such as Asia/Jakarta, Asia/Makassar or "
                f"Asia/Jayapura (got {timezone!r})"
            ) from exc
        try:
            trusted_proxies = parse_networks(env.get("ADUAN_TRUSTED_PROXIES") or "")
        except ValueError as exc:
            raise SettingsError(
                "ADUAN_TRUSTED_PROXIES must be a comma list of IP addresses or CIDR blocks of "
                f"your reverse proxies, e.g. 127.0.0.1,10.0.0.0/8 (got {exc.args[0]!r})"
            ) from None
        database_url = (env.get("ADUAN_DATABASE_URL") or "").strip()
        if database_url and not re.match(r"^postgres(ql)?(\+asyncpg)?://", database_url):
            raise SettingsError(
                "ADUAN_DATABASE_URL must be a PostgreSQL URL such as "
                "postgresql://aduan:password@db.example:5432/aduan, or unset for SQLite "
                f"(got one starting {database_url.partition(':')[0]!r})"
            )
        subject = (env.get("ADUAN_VAPID_SUBJECT") or "").strip()
        if subject and not re.match(r"^(mailto:[^@\s]+@[^@\s]+|https://[^/\s]+\S*)$", subject):
            raise SettingsError(
                "ADUAN_VAPID_SUBJECT must be a contact address for the push services: "
                f"mailto:admin@kota.go.id or https://aduan.kota.go.id (got {subject!r})"
            )
        store = (env.get("ADUAN_PHOTO_STORE") or "").strip()
        photo_store = parse_photo_store(store, env) if store else None
        return cls(
            data_dir=data_dir,
            secret_key=secret,
            base_url=base_url,
            debug=_flag(env.get("ADUAN_DEBUG")),
            timezone=timezone,
            allowed_hosts=hosts,
            run_tasks=not _flag(env.get("ADUAN_NO_TASKS")),
            autoclose_workdays=int(autoclose),
            contact_retention_months=int(retention),
            body_timeout=float(body_timeout),
            trusted_proxies=trusted_proxies,
            database_url=database_url,
            photo_store=photo_store,
            vapid_private_key=(env.get("ADUAN_VAPID_PRIVATE_KEY") or "").strip(),
            vapid_subject=subject,
            push_hosts=parse_push_hosts(env.get("ADUAN_PUSH_HOSTS") or ""),
            **messaging_settings(env),  # type: ignore[arg-type]
        )
