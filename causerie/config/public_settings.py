"""The settings that make a public deployment safe: who may chat, with whose key, to which
endpoints, and how much. Read once at start, like every other setting.

Public mode is on on a Hugging Face Space (SPACE_ID), when the app listens beyond loopback
(GRADIO_SERVER_NAME=0.0.0.0), or with PUBLIC_MODE=1. Its defaults protect the owner: custom
endpoints off, limits on. On a person's own machine the limits are off unless set.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Mapping
from dataclasses import dataclass

from .setting_values import SettingsError, flag, number

NETWORKS_EXAMPLE = "10.0.0.0/8,192.168.1.20/32"


@dataclass(frozen=True)
class PublicSettings:
    public: bool = False
    """Strangers may reach this server: visitors' endpoints are checked, limits are on by default."""
    require_user_key: bool = False
    """Visitors bring their own keys; the server's keys are not used (REQUIRE_USER_KEY=1)."""
    require_login: bool = False
    """Only signed-in people (Hugging Face login or AUTH_USERS) may chat (REQUIRE_LOGIN=1)."""
    allow_custom_endpoints: bool = True
    """A person may send their questions to a base URL of their own (never with a server key)."""
    allowed_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    """Private networks a visitor's endpoint may still reach in public mode (ALLOWED_PRIVATE_NETWORKS)."""
    max_input_chars: int = 0
    """The longest message taken, in characters; 0: no limit."""
    max_context_chars: int = 0
    """The most conversation sent upstream, in characters; the oldest turns beyond it are left out."""
    max_tokens_cap: int = 0
    """The largest max_tokens an answer paid with a server key may ask for (and what it gets when
    it asks for none); 0: no cap."""
    rate_per_minute: int = 0
    """Questions per minute per session and per IP address; 0: no limit."""
    tokens_per_hour: int = 0
    """Tokens (in and out) per hour per session and per IP address, on the server's keys; 0: none."""
    images_per_hour: int = 0
    """Pictures per hour per session and per IP address, on the server's keys; 0: none."""
    max_audio_seconds: int = 0
    """The longest recording transcribed, in seconds; 0: no limit."""
    dollars_per_day_per_visitor: float = 0.0
    """Dollars a day each visitor (session or signed-in person, and address) may spend of the
    owner's keys; 0: no such budget (answering/budgets.py)."""
    dollars_per_day: float = 0.0
    """Dollars a day the whole app may spend of the owner's keys; 0: no such budget."""
    budget_reset_hour: int = 0
    """The hour (UTC, 0-23) at which a budget's day begins."""
    log_content: bool = False
    """Put questions and answers in the log's line per answer (LOG_CONTENT=1): for debugging only."""
    proxy_hops: int = 0
    """Proxies in front of the app that append to X-Forwarded-For: the visitor's address is that
    many entries from its end (TRUSTED_PROXY_HOPS; 1 on a Space, else 0: the connection's peer)."""
    oauth_billing: bool | None = None
    """A visitor signed in with Hugging Face is billed for the Hugging Face router through their own
    login token, not the owner's HF_TOKEN. None: when the router is Hugging Face's own address;
    HF_BILL_VISITORS=0 never, =1 also at an HF_BASE_URL the owner set."""

    def summary(self) -> str:
        """One line for the start-up log: the mode and the limits in force (no secret in it)."""
        if not self.public:
            return "Public mode off (PUBLIC_MODE=1 turns it on): no limits unless set."
        limits = ", ".join(
            f"{name}={value}"
            for name, value in (
                ("MAX_INPUT_CHARS", self.max_input_chars),
                ("MAX_CONTEXT_CHARS", self.max_context_chars),
                ("MAX_TOKENS_CAP", self.max_tokens_cap),
                ("RATE_LIMIT_PER_MINUTE", self.rate_per_minute),
                ("TOKENS_PER_HOUR", self.tokens_per_hour),
                ("IMAGES_PER_HOUR", self.images_per_hour),
                ("MAX_AUDIO_SECONDS", self.max_audio_seconds),
                ("DOLLARS_PER_DAY_PER_VISITOR", self.dollars_per_day_per_visitor),
                ("DOLLARS_PER_DAY", self.dollars_per_day),
            )
        )
        keys = "visitors' keys only" if self.require_user_key else "server keys used"
        login = "login required" if self.require_login else "no login required"
        endpoints = "allowed" if self.allow_custom_endpoints else "off"
        return f"Public mode on: custom endpoints {endpoints}, {keys}, {login}; {limits} (0: none)."


def _count(env: Mapping[str, str], name: str, default: int) -> int:
    value = number(env, name, default, minimum=0)
    if value != int(value):
        raise SettingsError(f"{name} must be a whole number (0 for no limit), got {env[name]!r}.")
    return int(value)


def _dollars(env: Mapping[str, str], name: str) -> float:
    value = number(env, name, 0.0)
    if not math.isfinite(value):  # ("nan" would turn a budget on that holds nothing)
        raise SettingsError(f"{name} must be an amount in dollars, as in 0.50 (0 for no budget), got {env[name]!r}.")
    return value


def _networks(env: Mapping[str, str]) -> tuple:
    raw = env.get("ALLOWED_PRIVATE_NETWORKS", "").strip()
    networks = []
    for item in filter(None, (part.strip() for part in raw.split(","))):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise SettingsError(
                f"ALLOWED_PRIVATE_NETWORKS: {item!r} is not a network; write them like {NETWORKS_EXAMPLE}."
            ) from None
    return tuple(networks)


def _listens_beyond_loopback(env: Mapping[str, str]) -> bool:
    """Gradio listens on 127.0.0.1 unless GRADIO_SERVER_NAME says otherwise (0.0.0.0 in a
    container, say): then others can reach the app, and it is public unless PUBLIC_MODE=0."""
    name = env.get("GRADIO_SERVER_NAME", "").strip().lower()
    if not name or name in ("localhost", "::1"):
        return False
    try:
        return not ipaddress.ip_address(name).is_loopback
    except ValueError:
        return True


def load_public_settings(env: Mapping[str, str], *, on_space: bool, oauth: bool, basic_auth: bool) -> PublicSettings:
    public = flag(env, "PUBLIC_MODE", on_space or _listens_beyond_loopback(env))
    require_login = flag(env, "REQUIRE_LOGIN", False)
    if require_login and not (oauth or basic_auth):
        raise SettingsError(
            "REQUIRE_LOGIN=1 needs a way to sign in: add `hf_oauth: true` to the Space's README "
            "front matter (Hugging Face login), or set AUTH_USERS=name:password."
        )
    per_visitor, per_app = _dollars(env, "DOLLARS_PER_DAY_PER_VISITOR"), _dollars(env, "DOLLARS_PER_DAY")
    reset_hour = _count(env, "BUDGET_RESET_HOUR", 0)
    if reset_hour > 23:
        raise SettingsError(f"BUDGET_RESET_HOUR must be an hour from 0 to 23 (UTC), got {env['BUDGET_RESET_HOUR']!r}.")
    cap = _count(env, "MAX_TOKENS_CAP", 8192 if public else 0)
    if (per_visitor or per_app) and not cap:
        raise SettingsError(
            "A dollar budget (DOLLARS_PER_DAY_PER_VISITOR, DOLLARS_PER_DAY) needs MAX_TOKENS_CAP: without a cap, "
            "the most an answer may cost is unbounded. Set MAX_TOKENS_CAP=8192, say."
        )
    return PublicSettings(
        public=public,
        require_user_key=flag(env, "REQUIRE_USER_KEY", False),
        require_login=require_login,
        allow_custom_endpoints=flag(env, "ALLOW_CUSTOM_ENDPOINTS", not public),
        allowed_networks=_networks(env),
        max_input_chars=_count(env, "MAX_INPUT_CHARS", 30_000 if public else 0),
        max_context_chars=_count(env, "MAX_CONTEXT_CHARS", 200_000 if public else 0),
        max_tokens_cap=cap,
        rate_per_minute=_count(env, "RATE_LIMIT_PER_MINUTE", 10 if public else 0),
        tokens_per_hour=_count(env, "TOKENS_PER_HOUR", 200_000 if public else 0),
        images_per_hour=_count(env, "IMAGES_PER_HOUR", 10 if public else 0),
        max_audio_seconds=_count(env, "MAX_AUDIO_SECONDS", 120 if public else 0),
        dollars_per_day_per_visitor=per_visitor,
        dollars_per_day=per_app,
        budget_reset_hour=reset_hour,
        log_content=flag(env, "LOG_CONTENT", False),
        proxy_hops=_count(env, "TRUSTED_PROXY_HOPS", 1 if on_space else 0),
        oauth_billing=flag(env, "HF_BILL_VISITORS", True) if env.get("HF_BILL_VISITORS", "").strip() else None,
    )
