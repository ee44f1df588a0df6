"""The real client address behind the reverse proxy, resolved once per request.

settings.TRUSTED_PROXIES lists the networks (CIDRs) of the proxies that sit in front of the app (nginx, a
load balancer). When the peer that connected (REMOTE_ADDR) is one of them, the client is the right-most
address of X-Forwarded-For that is not a trusted proxy: each proxy appends the address it saw, so whatever
lies to the left of the first untrusted hop was written by the client and proves nothing. When the peer is
not a trusted proxy, X-Forwarded-For is ignored (anyone can send it): the client is REMOTE_ADDR.

Used by django-axes (settings.AXES_CLIENT_IP_CALLABLE), the residents' rate limits (public.views) and the
security log (fundapp.security_log). The standard library's `ipaddress` does the matching, so CIDRs of
both families work (django-ipware matches proxies by string prefix only).
"""
import ipaddress

from django.conf import settings

_ATTRIBUTE = "_fund_client_ip"


def parse_networks(values):
    """`values` (strings like "10.0.0.0/8", "127.0.0.1", "::1") as networks; ValueError names a bad one."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValueError(f"not an address or network: {value!r}") from None
    return networks


def _address(text):
    """`text` as an ip_address, or None. Tolerates a port ("1.2.3.4:5678", "[::1]:80")."""
    text = (text or "").strip()
    candidates = [text]
    if text.startswith("[") and "]" in text:
        candidates.append(text[1:text.index("]")])
    elif text.count(":") == 1:
        candidates.append(text.split(":")[0])
    for candidate in candidates:
        try:
            address = ipaddress.ip_address(candidate)
        except ValueError:
            continue
        # An IPv4 client reaching an IPv6 socket shows as ::ffff:a.b.c.d: it is the IPv4 address.
        return getattr(address, "ipv4_mapped", None) or address
    return None


def _trusted(address, networks):
    return any(address.version == net.version and address in net for net in networks)


def resolve(remote_addr, forwarded_for, trusted_networks):
    """The client address (a string, or "" if REMOTE_ADDR itself is unusable) for a peer and its header."""
    peer = _address(remote_addr)
    if peer is None:
        return ""
    if not _trusted(peer, trusted_networks) or not forwarded_for:
        return str(peer)
    client = peer
    for hop in reversed(forwarded_for.split(",")):
        address = _address(hop)
        if address is None:
            # Garbage written by someone left of the last trusted hop: that hop is all we can vouch for.
            break
        client = address
        if not _trusted(address, trusted_networks):
            break
    return str(client)


def client_ip(request):
    """The real client address of `request` (computed on first use, then kept on the request)."""
    cached = request.__dict__.get(_ATTRIBUTE) if hasattr(request, "__dict__") else None
    if cached is not None:
        return cached
    meta = getattr(request, "META", {}) or {}
    address = resolve(meta.get("REMOTE_ADDR", ""), meta.get("HTTP_X_FORWARDED_FOR", ""),
                      settings.TRUSTED_PROXY_NETWORKS)
    try:
        setattr(request, _ATTRIBUTE, address)
    except AttributeError:
        pass
    return address
