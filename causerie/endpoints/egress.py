"""Where a visitor's endpoint may connect in public mode: public internet addresses only.

A base URL typed by a stranger must not reach the server's own network (loopback, private and
link-local ranges, unique-local IPv6, cloud metadata services). Two checks:

- `check_url`, before a request: the host is resolved and every address it resolves to is
  checked, so the person gets a clear refusal at once;
- `guarded_socket`, the connection pool's socket factory for such endpoints: every connection
  checks the address it is about to connect to, whatever DNS answered in between (a name that
  resolved to a public address for the check and to 127.0.0.1 a moment later is still refused).

Redirects are never followed at all (client.py), so a public endpoint cannot bounce a request
inward. The owner's own endpoints (set in the environment) are trusted and not checked.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

import httpx

from ..events import Failure

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

RESOLVE_TIMEOUT_S = 2.0
# Cloud metadata services outside the link-local range (AWS's IPv6 one, Alibaba's).
METADATA = (ipaddress.ip_address("fd00:ec2::254"), ipaddress.ip_address("100.100.100.200"))
NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


class RefusedAddress(ConnectionRefusedError):
    """A connection to a non-public address, refused before any byte was sent."""

    def __init__(self, address: str, why: str) -> None:
        super().__init__(f"refused by Causerie: {address} is {why}")
        self.address, self.why = address, why


def plain_address(address: Address) -> Address:
    """The IPv4 address an IPv6 one carries (IPv4-mapped, 6to4, Teredo, NAT64), else itself."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if embedded is None and any(address in net for net in NAT64):
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return embedded
    return address


def why_refused(address: Address, allowed: Iterable[Network] = ()) -> str | None:
    """Why connecting to `address` is refused in public mode (a code: "loopback", "private", ...;
    wording.py words it), or None."""
    address = plain_address(address)
    if address in METADATA or str(address) == "169.254.169.254":
        return "metadata"  # whatever networks the owner allowed
    if any(address in network for network in allowed):
        return None
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link_local"
    if isinstance(address, ipaddress.IPv6Address) and address in ipaddress.ip_network("fc00::/7"):
        return "unique_local"
    if address.is_private:
        return "private"
    if address.is_unspecified or address.is_multicast or address.is_reserved or not address.is_global:
        return "not_public"
    return None


def refusal(base_url: str, host: str, why: str) -> Failure:
    return Failure("endpoint_refused", {"why": "address", "base_url": base_url, "host": host, "reason": why})


async def check_url(url: str, allowed: Iterable[Network] = ()) -> Failure | None:
    """None when every address `url`'s host resolves to is public; else the refusal to show.

    Quick either way: an address or a local name is judged without any lookup, and a lookup that
    takes longer than RESOLVE_TIMEOUT_S is a refusal."""
    found = await public_addresses(url, allowed)
    return found if type(found) is Failure else None


async def public_addresses(url: str, allowed: Iterable[Network] = ()) -> list[str] | Failure:
    """The addresses `url`'s host resolves to, when every one is public; else the refusal."""
    allowed = tuple(allowed)
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:  # "http://[::1", a port that is not one
        return Failure("endpoint_refused", {"why": "scheme", "base_url": url})
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return Failure("endpoint_refused", {"why": "scheme", "base_url": url})
    host = parts.hostname.rstrip(".").lower()
    if host in LOCAL_NAMES or host.endswith(".localhost"):
        return refusal(url, host, "a loopback address")
    try:
        literal: Address | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        why = why_refused(literal, allowed)
        return refusal(url, host, why) if why else [str(literal)]
    try:
        infos = await asyncio.wait_for(
            asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT_S
        )
    except (OSError, TimeoutError, UnicodeError):
        return Failure("endpoint_refused", {"why": "unresolved", "base_url": url, "host": host})
    addresses = []
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(sockaddr[0].split("%")[0])
        if why := why_refused(address, allowed):
            return refusal(url, f"{host} ({address})", why)
        addresses.append(str(address))
    return addresses or Failure("endpoint_refused", {"why": "unresolved", "base_url": url, "host": host})


def guarded_socket(allowed: Iterable[Network] = ()):
    """A socket factory (aiohttp's TCPConnector `socket_factory`) that refuses non-public addresses."""
    allowed = tuple(allowed)

    def make(addr_info) -> socket.socket:
        family, kind, proto, _, sockaddr = addr_info
        address = ipaddress.ip_address(sockaddr[0].split("%")[0])
        if why := why_refused(address, allowed):
            raise RefusedAddress(str(address), why)
        sock = socket.socket(family=family, type=kind, proto=proto)
        sock.setblocking(False)
        return sock

    return make


class GuardedTransport(httpx.AsyncBaseTransport):
    """An httpx transport for addresses a visitor chose (their MCP server): every request's host is
    resolved and checked here, and the connection is made to the address checked, so DNS cannot
    answer differently in between. TLS still checks the certificate against the name (httpcore's
    `sni_hostname` extension); the Host header keeps the name. A refusal raises RefusedAddress
    before any byte is sent."""

    def __init__(self, allowed: Iterable[Network] = ()) -> None:
        self._allowed = tuple(allowed)
        self._inner = httpx.AsyncHTTPTransport(trust_env=False)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        found = await public_addresses(str(request.url), self._allowed)
        if type(found) is Failure:
            raise RefusedAddress(
                str(found.params.get("host") or request.url.host), str(found.params.get("reason") or found.params.get("why"))
            )
        host = request.url.host
        if found[0] != host:
            request.url = request.url.copy_with(host=found[0])
            request.extensions = {**request.extensions, "sni_hostname": host}
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()
