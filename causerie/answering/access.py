"""Whose key goes where: the endpoint one answer is sent to, decided from the server's settings,
the person's options (their own key, their own base URL) and who they are (a Hugging Face login).

The rules, in one place:
- a key held by the server goes only to its own provider's configured base URL;
- a base URL a person gives is used only where the settings allow it, and only ever with the
  person's own key (or none); in public mode it may reach public internet addresses only;
- the Hugging Face router is billed to a signed-in visitor's own login token, when they have one
  (sent to Hugging Face's own address only, unless the owner says otherwise);
- a visitor's key is used for the providers that take one (not the owner's local servers).
- with REQUIRE_USER_KEY the server's keys are not even loaded (settings.py).
"""

from __future__ import annotations

import logging

from ..config.settings import Settings, setup_params
from ..endpoints.providers import PROVIDERS, Endpoint, Provider
from ..events import Failure
from .limits import Visitor
from .options import ChatOptions

HF_ROUTER = "huggingface"
log = logging.getLogger(__name__)


def takes_visitor_key(provider: Provider) -> bool:
    """A provider a person can use with a key of their own (not the local servers, which run on
    the owner's machine)."""
    return bool(provider.key_env) and not provider.local


def offered_providers(settings: Settings) -> list[Provider]:
    """The providers a person can pick: those ready on the server, then those they can use with
    their own key."""
    ready = settings.ready_providers()
    return ready + [p for p in PROVIDERS if p not in ready and takes_visitor_key(p)]


def _custom(settings: Settings, provider: Provider, base_url: str | None) -> str | None:
    """The person's base URL when it differs from the provider's configured one, else None."""
    if not base_url or provider.managed:
        return None
    wanted = base_url.rstrip("/")
    configured = settings.base_url(provider).rstrip("/")
    return None if wanted == configured else wanted


def _bills_login(settings: Settings, provider: Provider, base_url: str) -> bool:
    """A visitor's login token goes to Hugging Face's own router only, unless the owner, who pointed
    HF_BASE_URL elsewhere, says with HF_BILL_VISITORS=1 that it may go there."""
    chosen = settings.public.oauth_billing
    return base_url == provider.base_url if chosen is None else chosen


NEEDS_KEY = {"page": "needs_key", "api": "needs_key_api", "mcp": "needs_key_mcp"}
"""How a missing key is worded, by where the question came from."""


def _owner_only(provider: Provider) -> Failure:
    """What the owner runs or pays for (their keys, their own servers, the offline model), which
    answers MCP callers only with MCP_OWNER_PAYS=1."""
    return Failure("owner_only", {"provider": provider.label})


def choose_endpoint(
    settings: Settings, provider: Provider, options: ChatOptions, visitor: Visitor | None, *, local_base_url: str | None = None
) -> Endpoint | Failure:
    """The endpoint for one answer, or why there is none. Its address is not checked here (a
    public_only endpoint is checked by egress.check_url before the request, and on connecting)."""
    custom = _custom(settings, provider, options.base_url)
    if custom is not None:
        if not settings.public.allow_custom_endpoints:
            return Failure("endpoint_refused", {"why": "custom_off", "provider": provider.label})
        if not custom.startswith(("http://", "https://")):
            return Failure("endpoint_refused", {"why": "scheme", "base_url": custom})
        return Endpoint(
            provider,
            custom,
            options.api_key,
            key_from="visitor" if options.api_key else "none",
            public_only=settings.public.public,
        )
    if provider.managed:
        if not options.owner_keys:
            return _owner_only(provider)
        return Endpoint(provider, local_base_url or "", None, key_from="none", owner_pays=True)
    base_url = settings.base_url(provider)
    if options.api_key and takes_visitor_key(provider):
        return Endpoint(provider, base_url, options.api_key, key_from="visitor")
    hf_token = visitor.hf_token if visitor else None
    if provider.id == HF_ROUTER and hf_token and _bills_login(settings, provider, base_url):
        return Endpoint(provider, base_url, hf_token, key_from="login")
    if settings.is_ready(provider):  # the server's key, or a keyless server the owner set up (Ollama, ...)
        if options.owner_keys:
            server_key = settings.keys.get(provider.id)
            return Endpoint(provider, base_url, server_key, key_from="server" if server_key else "none", owner_pays=True)
        if not takes_visitor_key(provider):
            return _owner_only(provider)
    if takes_visitor_key(provider):
        owner_can_set = not (settings.public.public or settings.public.require_user_key)
        return Failure(
            "not_ready",
            {
                "why": NEEDS_KEY[options.asked_through],
                "provider": provider.label,
                "docs_url": provider.docs_url,
                "key_env": provider.key_env if owner_can_set else None,
            },
        )
    return Failure("not_ready", {"why": "not_set_up", "provider": provider.label, **setup_params(provider)})


HIDDEN_IN_PUBLIC = frozenset({"connect", "not_compatible", "redirected"})
"""Failures worded with the address the owner set (and the setting that names it)."""
OWNER_SETTINGS = ("base_url_env", "key_env")


def as_seen(settings: Settings, endpoint: Endpoint, failure: Failure) -> Failure:
    """A failure as the person sees it: in public mode at an address the owner set, for_visitors."""
    return for_visitors(failure) if settings.public.public and not endpoint.public_only else failure


def for_visitors(failure: Failure) -> Failure:
    """In public mode, a failure at an address the owner set, as visitors see it: that it failed,
    not where (an internal address) nor which of the owner's settings to change; the owner's log
    has it whole."""
    if failure.kind in HIDDEN_IN_PUBLIC:
        log.warning("Answer failed at the owner's address: %s", failure.message)
        kept = {name: failure.params[name] for name in ("provider", "status") if name in failure.params}
        return Failure(failure.kind, {**kept, "why": "hidden"}, failure.status)
    if any(name in failure.params for name in OWNER_SETTINGS):
        return Failure(failure.kind, {k: v for k, v in failure.params.items() if k not in OWNER_SETTINGS}, failure.status)
    return failure
