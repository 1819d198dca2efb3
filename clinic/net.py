"""The address a request comes from, knowing how many proxies we trust.

Behind a TLS proxy REMOTE_ADDR is the proxy's own address. With
TRUSTED_PROXY_COUNT = n, the client's address is the n-th entry from the
right of X-Forwarded-For (entries further left are whatever the client sent,
and cannot be trusted). Used by the rate limits and the access log."""

import ipaddress

from django.conf import settings


def client_ip(request) -> str | None:
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if proxies > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or None


def rate_limit_address(request) -> str:
    """The client's address as a rate limit counts it: an IPv6 address by
    its /64, which one subscriber usually holds whole (allauth counts its own
    per-address limits the same way)."""
    ip = client_ip(request) or ""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if address.version == 6:
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False).network_address)
    return ip
