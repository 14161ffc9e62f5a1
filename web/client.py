"""Who is asking: the client's address, resolved once, for every per-client limit.

Behind a reverse proxy every connection comes from the proxy, so the socket address alone
would put all residents in one bucket (one person's mistyped codes would lock everyone out);
trusting `X-Forwarded-For` from anyone would let each request name its own address and
escape every limit. So the header is read only when the socket peer is one of the proxies
the operator listed in ADUAN_TRUSTED_PROXIES, and only as far as those proxies vouch for it:
walking from the right (each proxy appends the address it saw), the first address that is
not a trusted proxy is the client. Whatever a client wrote further left is ignored.

`ClientAddressMiddleware` puts the result in the ASGI scope's `client`, the standard place
(uvicorn's own proxy handling does the same), and limiters read it through `client_id`.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
from collections.abc import Iterable, Sequence
from functools import lru_cache

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger("aduan")
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# Mobile networks give each phone an IPv6 /64 and let it pick any address inside it, so a
# limit per IPv6 address would be no limit at all; one /64 is one household or phone.
IPV6_CLIENT_PREFIX = 64


def parse_networks(text: str) -> tuple[IPNetwork, ...]:
    """A comma list of addresses and CIDR blocks; ValueError names the entry that is wrong."""
    networks = []
    for part in text.split(","):
        entry = part.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(entry) from None
    return tuple(networks)


@lru_cache(maxsize=4096)
def _address(text: str) -> IPAddress | None:
    """An address as a proxy writes it ("203.0.113.7", "2001:db8::1", "[2001:db8::1]:443",
    "203.0.113.7:51234"), IPv4-mapped IPv6 turned back into IPv4; None if it is not one.
    Remembered: parsing is a few microseconds twice a request, and the same proxies and
    clients come back (a busy public page, issue 13)."""
    value = text.strip()
    if value.startswith("["):
        value = value[1:].partition("]")[0]
    elif value.count(":") == 1:
        value = value.partition(":")[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def resolve(peer: str, forwarded_for: Iterable[str], trusted: Sequence[IPNetwork]) -> str:
    """The client's address given the socket peer and the X-Forwarded-For header values.

    The header counts only when the peer is a trusted proxy. Its entries are then read from
    the right; trusted proxies are skipped, and the first other address is the client. An
    entry that is not an address ends the walk at the last proxy that was vouched for (a
    proxy always writes a valid address, so garbage there came from the client).
    """
    peer_address = _address(peer)
    if peer_address is None or not _trusted(peer_address, trusted):
        return str(peer_address) if peer_address is not None else peer
    client = peer_address
    hops = [hop for value in forwarded_for for hop in value.split(",")]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break
        client = address
        if not _trusted(address, trusted):
            break
    return str(client)


def _trusted(address: IPAddress, trusted: Sequence[IPNetwork]) -> bool:
    return any(address in network for network in trusted)


class ClientAddressMiddleware:
    """Pure ASGI: replaces the scope's `client` with the resolved client address, and its
    `scheme` with a trusted proxy's X-Forwarded-Proto (links and redirects then say https).

    Forwarding headers from an untrusted peer are ignored; the first time a loopback peer
    sends them while no proxy is trusted, a warning says how to configure it (the usual
    mistake after putting nginx in front).
    """

    def __init__(self, app: ASGIApp, *, trusted: Sequence[IPNetwork] = ()) -> None:
        self.app = app
        self.trusted = tuple(trusted)
        self.warned = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in {"http", "websocket"} and scope.get("client"):
            host, port = scope["client"]
            forwarded: list[str] = []
            proto = None
            for name, value in scope.get("headers", []):
                if name == b"x-forwarded-for":
                    forwarded.append(value.decode("latin-1"))
                elif name == b"x-forwarded-proto":
                    proto = value.decode("latin-1").strip().lower()
            resolved = resolve(str(host), forwarded, self.trusted)
            peer = _address(str(host))
            if peer is not None and _trusted(peer, self.trusted):
                if proto in {"http", "https"}:
                    scope["scheme"] = proto if scope["type"] == "http" else f"ws{proto[4:]}"
            elif forwarded and not self.trusted and peer is not None and peer.is_loopback:
                self._warn_once()
            scope["client"] = (resolved, port)
        await self.app(scope, receive, send)

    def _warn_once(self) -> None:
        if not self.warned:
            self.warned = True
            log.warning(
                "X-Forwarded-For from a local proxy is ignored: set ADUAN_TRUSTED_PROXIES "
                "to the proxy's address (e.g. 127.0.0.1) so that each client is told apart"
            )


def client_address(request: Request) -> str:
    """The client's address as resolved by ClientAddressMiddleware ("-" when unknown)."""
    return request.client.host if request.client else "-"


def client_id(request: Request) -> str:
    """The client as every per-client limit counts it: its address, or for IPv6 its /64."""
    host = client_address(request)
    address = _address(host)
    if isinstance(address, ipaddress.IPv6Address):
        network = ipaddress.ip_network(f"{address}/{IPV6_CLIENT_PREFIX}", strict=False)
        return str(network)
    return host


def keyed_bucket(request: Request, purpose: str, value: str) -> str:
    """A rate-limit bucket for `value` (an address, a device id) and a purpose, hashed with
    our key so that the database never holds a resident's IP address."""
    secret = request.app.state.settings.secret_key.encode()
    digest = hmac.new(secret, f"{purpose}:{value}".encode(), hashlib.sha256)
    return f"{purpose}:{digest.hexdigest()[:24]}"


def client_bucket(request: Request, purpose: str) -> str:
    """The rate-limit bucket of this client for a purpose."""
    return keyed_bucket(request, purpose, client_id(request))
