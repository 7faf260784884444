"""Every environment setting, read once, typed and validated at the edge.

`.env` is read with python-dotenv and never overrides the real environment (which is where a
Space's secrets arrive). A wrong value raises SettingsError with a message that names the variable
and says how to fix it. No key is ever put in a message.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from dotenv import dotenv_values

from .. import patches
from ..endpoints import local_model
from ..endpoints.providers import PROVIDERS, Endpoint, Provider, get_provider
from ..i18n.wording import DEFAULT_LANGUAGE, words
from .history_settings import HistorySettings, load_history_settings
from .page_policy import frame_ancestors
from .public_settings import PublicSettings, load_public_settings
from .setting_values import SettingsError, flag, number
from .tool_settings import ToolSettings, load_tool_settings

__all__ = ["Settings", "SettingsError", "load_settings", "read_environment"]


def _history_for_this_run() -> HistorySettings:
    import secrets

    return HistorySettings(secret=secrets.token_urlsafe(32), secret_kept="this run")


def _integer(env: Mapping[str, str], name: str, default: int, *, minimum: int = 0) -> int:
    value = number(env, name, default, minimum=minimum)
    if value != int(value):
        raise SettingsError(f"{name} must be a whole number, got {env[name]!r}.")
    return int(value)


SETTING_NAMES = (
    "DEFAULT_PROVIDER",
    "DEFAULT_MODEL",
    "DEFAULT_PROMPT",
    "LOCAL_MODEL_PATH",
    "SPACE_ID",
    "SYSTEM",
    "PUBLIC_MODE",
    "REQUIRE_USER_KEY",
    "REQUIRE_LOGIN",
    "ALLOW_CUSTOM_ENDPOINTS",
    "ALLOWED_PRIVATE_NETWORKS",
    "MAX_INPUT_CHARS",
    "MAX_CONTEXT_CHARS",
    "MAX_TOKENS_CAP",
    "RATE_LIMIT_PER_MINUTE",
    "TOKENS_PER_HOUR",
    "IMAGES_PER_HOUR",
    "MAX_AUDIO_SECONDS",
    "DOLLARS_PER_DAY_PER_VISITOR",
    "DOLLARS_PER_DAY",
    "BUDGET_RESET_HOUR",
    "LOG_CONTENT",
    "TRUSTED_PROXY_HOPS",
    "HF_BILL_VISITORS",
    "AUTH_USERS",
    "OAUTH_CLIENT_ID",
    "ANSWER_GRACE_SECONDS",
    "EMBED",
    "FRAME_ANCESTORS",
    "MAX_ATTACHMENT_MB",
    "UPLOADS_KEEP_HOURS",
    "ADMIN_USERS",
    "USAGE_KEEP_DAYS",
    "MCP_SERVER",
    "MCP_OWNER_PAYS",
    "MCP_ALLOWED_HOSTS",
    "MCP_SERVERS",
    "MCP_AUTO_APPROVE",
    "MAX_TOOL_STEPS",
    "MCP_TOOL_TIMEOUT",
    "XAI_REMOTE_MCP",
    "SHARE_LINKS",
    "SHARES_PER_PERSON",
    "PDF_READ_SECONDS",
    "HISTORY_SECRET",
    "HISTORY_OLD_SECRETS",
    "DATABASE_URL",
    "CAUSERIE_DATA_DIR",
    "CAUSERIE_HISTORY_MAX_CONVERSATIONS",
    "CAUSERIE_HISTORY_MAX_MB",
    "CAUSERIE_CONCURRENCY",
    "CAUSERIE_CONNECT_TIMEOUT",
    "CAUSERIE_READ_TIMEOUT",
    "CAUSERIE_IDLE_TIMEOUT",
    "CAUSERIE_MAX_RETRIES",
    "CAUSERIE_DISCOVERY_TIMEOUT",
    "CAUSERIE_QUEUE_SIZE",
    "CAUSERIE_MAX_THREADS",
    "CAUSERIE_OPEN_BROWSER",
    "CAUSERIE_ENV_FILE",
    patches.ENV,
)
"""Every variable of this app's settings, but the providers' keys and base URLs (PROVIDERS)."""

MACHINE_NAMES = frozenset({"CI", "DISPLAY", "WAYLAND_DISPLAY", "XDG_DATA_HOME", "GRADIO_SERVER_NAME", "GRADIO_TEMP_DIR"})
"""Variables read to learn about the machine, not settings of this app."""


def setting_names() -> list[str]:
    """Every variable the settings read (tests clear them all: no developer's setting leaks in)."""
    return [v for p in PROVIDERS for v in (p.key_env, p.base_url_env) if v] + list(SETTING_NAMES)


def _patches(env: Mapping[str, str]) -> frozenset[str]:
    try:
        return patches.selected(env.get(patches.ENV))
    except ValueError as exc:
        raise SettingsError(str(exc)) from None


def _open_browser(env: Mapping[str, str]) -> bool:
    raw = env.get("CAUSERIE_OPEN_BROWSER", "").strip().lower()
    if raw in ("1", "true", "yes"):
        return True
    if raw in ("0", "false", "no"):
        return False
    if raw:
        raise SettingsError(f"CAUSERIE_OPEN_BROWSER must be true or false, got {raw!r}.")
    # Automatic: on a person's own machine with a screen; never on a Space or in CI.
    if env.get("SPACE_ID") or env.get("SYSTEM") == "spaces" or env.get("CI"):
        return False
    return not sys.platform.startswith("linux") or bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def _base_url(env: Mapping[str, str], name: str) -> str | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    if not raw.startswith(("http://", "https://")):
        raise SettingsError(f"{name} must be an http:// or https:// URL such as http://localhost:8080/v1, got {raw!r}.")
    return raw.rstrip("/")


def upload_folder() -> Path:
    """Gradio's upload folder, as Gradio finds it: GRADIO_TEMP_DIR from the real environment (not
    .env, which Gradio does not read), else the system's temporary folder's `gradio`;
    tests/test_attachments.py checks they agree."""
    return Path(os.environ.get("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir()) / "gradio")


def setup_params(provider: Provider) -> dict[str, str | None]:
    """What wording.py needs to say how to make a provider ready ("how")."""
    return {
        "setup": "managed" if provider.managed else "local" if provider.local else "key",
        "base_url_env": provider.base_url_env,
        "base_url": provider.base_url,
        "key_env": provider.key_env,
    }


@dataclass(frozen=True)
class CockpitSettings:
    """The owner's cockpit at /admin (ui/cockpit_page.py) and the answer records it reads."""

    admins: frozenset[str] = frozenset()
    """Who may open it: "user:<name>" (AUTH_USERS) and "hf:<name>" (Hugging Face) for each name of
    ADMIN_USERS. Empty: no cockpit (every route of it refuses)."""
    keep_days: int = 30
    """How long answer records are kept (USAGE_KEEP_DAYS)."""


@dataclass(frozen=True)
class McpSettings:
    """Causerie's tools (ask, search, compare) for MCP clients, at /gradio_api/mcp/."""

    on: bool = False
    """MCP_SERVER=1 serves them (off by default)."""
    owner_pays: bool = False
    """MCP_OWNER_PAYS=1: in public mode, a caller without a key of their own (the X-Provider-Key
    header) is answered with the server's keys, under every limit the page has. Off, they must
    bring their own."""
    allowed_hosts: frozenset[str] = frozenset()
    """Host names besides loopback that MCP requests may be addressed to on your own machine
    (MCP_ALLOWED_HOSTS, comma-separated: a LAN name or address the server listens on)."""


@dataclass(frozen=True)
class Settings:
    keys: Mapping[str, str] = field(default_factory=dict, repr=False)
    """Server-held keys by provider id. Never logged (repr=False)."""
    base_urls: Mapping[str, str] = field(default_factory=dict)
    """Base URLs set in the environment, by provider id."""
    default_provider: str | None = None
    default_model: str | None = None
    default_prompt: str = "general-en"
    connect_timeout: float = 10.0
    read_timeout: float = 600.0
    """Reasoning models can think for minutes before their first token."""
    idle_timeout: float = 120.0
    """Once the answer has started, a pause longer than this ends it."""
    max_retries: int = 3
    discovery_timeout: float = 5.0
    concurrency_limit: int = 200
    queue_max_size: int = 500
    max_threads: int = 200
    """Gradio's queue runs at most this many jobs at once, async ones included: keep it at least
    the concurrency limit, or answers wait for a slot however idle the CPU is."""
    local_model_path: Path | None = None
    local_model_available: bool = False
    open_browser: bool = False
    """Open the chat in the browser when the app starts (on a laptop, not on a Space)."""
    on_space: bool = False
    oauth: bool = False
    """Hugging Face login is on (a Space with `hf_oauth: true`)."""
    history: HistorySettings = field(default_factory=_history_for_this_run)
    public: PublicSettings = field(default_factory=PublicSettings)
    max_attachment_mb: float = 10.0
    """The largest file read from an attachment (MAX_ATTACHMENT_MB)."""
    pdf_read_seconds: int = 5
    """The CPU seconds reading one PDF's text may take (PDF_READ_SECONDS; pdf_text.py)."""
    upload_dir: Path = field(default_factory=upload_folder)
    """Where the page's uploads are (Gradio's upload folder): attachments are read from there only."""
    uploads_keep_hours: float = 0.0
    """Attached files older than this are deleted (checked hourly); 0 keeps them until the machine
    cleans its temporary folder. UPLOADS_KEEP_HOURS; 24 by default in public mode."""
    patches: frozenset[str] = field(default_factory=lambda: frozenset(patches.names()))
    """The replacements of Gradio's code this app may apply (CAUSERIE_PATCHES; causerie/patches/)."""
    embed: bool = False
    """EMBED=1: the page shows the chat alone (for a site that embeds it); `?embed=1` does the same
    for one page."""
    frame_ancestors: str = "*"
    """The sites that may show the app in a frame (FRAME_ANCESTORS; the page's Content-Security-Policy)."""
    mcp: McpSettings = field(default_factory=McpSettings)
    cockpit: CockpitSettings = field(default_factory=CockpitSettings)
    """Causerie as an MCP server (MCP_SERVER, MCP_OWNER_PAYS; causerie/mcp_server/)."""
    share_links: bool = True
    """A conversation may be shared as a read-only link (SHARE_LINKS; history/shares.py)."""
    shares_per_person: int = 100
    """The most shares one browser or account keeps (SHARES_PER_PERSON; 20 in public mode)."""
    tools: ToolSettings = field(default_factory=ToolSettings)
    """The MCP servers whose tools models may call (MCP_SERVERS; config/tool_settings.py)."""
    answer_grace_s: float = 300.0
    """How long an answer goes on with no page watching it (a reload, a phone locked) before it is
    stopped; a page that comes back meanwhile gets it (runs.py)."""

    def is_ready(self, provider: Provider) -> bool:
        if provider.managed:
            return self.local_model_available
        if provider.id in self.keys:
            return True
        # A base URL set on purpose means a server the person runs; it may need no key.
        return provider.id in self.base_urls

    def ready_providers(self) -> list[Provider]:
        return [p for p in PROVIDERS if self.is_ready(p)]

    def what_to_set(self, provider: Provider, language: str = DEFAULT_LANGUAGE) -> str:
        """How to make a provider ready, for the settings panel."""
        return words("part", "how", setup_params(provider), language)

    def base_url(self, provider: Provider) -> str:
        """The provider's address as configured: its base URL variable, else its own."""
        return self.base_urls.get(provider.id, provider.base_url)

    def endpoint(self, provider_id: str, *, local_base_url: str | None = None) -> Endpoint:
        """The server-configured endpoint for a provider (its own key only goes to its own URL)."""
        provider = get_provider(provider_id)
        base_url = local_base_url if provider.managed else self.base_url(provider)
        return Endpoint(provider, base_url or "", self.keys.get(provider.id))

    def choose_default_provider(self) -> Provider | None:
        if self.default_provider:
            return get_provider(self.default_provider)
        ready = self.ready_providers()
        # The offline model is the fallback, never preferred over a provider set up on purpose.
        for provider in ready:
            if not provider.managed:
                return provider
        if ready:
            return ready[0]
        if self.public.require_user_key:  # visitors bring keys: the first provider that takes one
            return next((p for p in PROVIDERS if p.key_env and not p.local), None)
        return None


def read_environment(dotenv_path: str | os.PathLike | None = None) -> dict[str, str]:
    """The real environment over `.env` (or the file CAUSERIE_ENV_FILE names; empty: none).
    The environment always wins."""
    if dotenv_path is None:
        dotenv_path = os.environ.get("CAUSERIE_ENV_FILE", ".env") or None
    values: dict[str, str] = {}
    if dotenv_path is not None and Path(dotenv_path).is_file():
        values.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
    values.update(os.environ)
    return values


def _local_model(env: Mapping[str, str]) -> Path | None:
    configured = env.get("LOCAL_MODEL_PATH", "").strip() or None
    if not local_model.runtime_available():
        if configured:
            raise SettingsError(
                "LOCAL_MODEL_PATH is set but llama-cpp-python[server] is not installed: run pip install -r requirements-local.txt."
            )
        return None
    try:
        return local_model.resolve_model_path(configured)
    except local_model.LocalModelError as exc:
        raise SettingsError(str(exc)) from None


ADMIN_NAME = re.compile(r"^(user:|hf:)?[A-Za-z0-9._@+-]{1,100}$")


def _cockpit(env: Mapping[str, str], *, basic_auth: bool, oauth: bool) -> CockpitSettings:
    names = [name.strip() for name in env.get("ADMIN_USERS", "").split(",") if name.strip()]
    for name in names:
        if not ADMIN_NAME.match(name):
            raise SettingsError(
                f"ADMIN_USERS: {name[:40]!r} is not a user name (letters, digits and . _ @ + -), as in alice,bob."
            )
    if names and not (basic_auth or oauth):
        raise SettingsError(
            "ADMIN_USERS names who may open the cockpit once signed in: set AUTH_USERS=name:password (or turn on "
            "Hugging Face login with `hf_oauth: true`), or remove ADMIN_USERS."
        )
    keep_days = _integer(env, "USAGE_KEEP_DAYS", 30, minimum=1)
    # A name is the sign-in of each way that is on: with both, the password login "admin" and the
    # Hugging Face account "admin" are different people, and ADMIN_USERS says which with user: or hf:.
    kinds = [kind for kind, on in (("user", basic_auth), ("hf", oauth)) if on]
    admins = set()
    for name in names:
        kind, _, bare = name.partition(":") if name.startswith(("user:", "hf:")) else ("", "", name)
        if not kind and len(kinds) > 1:
            raise SettingsError(
                f"ADMIN_USERS: {name!r} could be a name of AUTH_USERS or a Hugging Face account; write user:{name} or hf:{name}."
            )
        admins.add(f"{kind or kinds[0]}:{bare}")
    return CockpitSettings(frozenset(admins), keep_days)


def _mcp(env: Mapping[str, str], public: PublicSettings, *, basic_auth: bool) -> McpSettings:
    on, owner_pays = flag(env, "MCP_SERVER", False), flag(env, "MCP_OWNER_PAYS", False)
    if owner_pays and not on:
        raise SettingsError("MCP_OWNER_PAYS=1 applies to the MCP server: set MCP_SERVER=1 too, or remove it.")
    if on and public.require_login and not basic_auth:
        raise SettingsError(
            "MCP_SERVER=1 with REQUIRE_LOGIN=1 needs AUTH_USERS: MCP clients sign in with a name and "
            "password (HTTP Basic), not with Hugging Face. Set AUTH_USERS, or remove MCP_SERVER."
        )
    hosts = frozenset(name.strip().lower() for name in env.get("MCP_ALLOWED_HOSTS", "").split(",") if name.strip())
    return McpSettings(on=on, owner_pays=owner_pays, allowed_hosts=hosts)


def _share_links(env: Mapping[str, str], public: PublicSettings, *, basic_auth: bool) -> bool:
    """On by default; off where only signed-in people may chat (a shared page is read by anyone with
    its link, and this server's shared pages cannot ask for a sign-in): with REQUIRE_LOGIN always,
    with AUTH_USERS unless SHARE_LINKS=1 says the owner wants links readable by anyone."""
    on = flag(env, "SHARE_LINKS", not (public.require_login or basic_auth))
    if on and public.require_login:
        raise SettingsError(
            "SHARE_LINKS=1 with REQUIRE_LOGIN=1: shared pages are read without signing in. Remove SHARE_LINKS, or REQUIRE_LOGIN."
        )
    return on


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Validate everything once, at startup."""
    env = read_environment() if env is None else env
    local_model_path = _local_model(env)
    concurrency = _integer(env, "CAUSERIE_CONCURRENCY", 200, minimum=1)
    base_urls = {p.id: url for p in PROVIDERS if p.base_url_env and (url := _base_url(env, p.base_url_env))}

    on_space = bool(env.get("SPACE_ID") or env.get("SYSTEM") == "spaces")
    oauth = bool(env.get("OAUTH_CLIENT_ID"))
    history = load_history_settings(env, on_space=on_space, oauth=oauth)
    public = load_public_settings(env, on_space=on_space, oauth=oauth, basic_auth=bool(history.auth_users))
    # With REQUIRE_USER_KEY the server's keys are not loaded at all: none can be sent anywhere.
    keys = (
        {}
        if public.require_user_key
        else {p.id: env[p.key_env].strip() for p in PROVIDERS if p.key_env and env.get(p.key_env, "").strip()}
    )
    settings = Settings(
        on_space=on_space,
        oauth=oauth,
        history=history,
        public=public,
        keys=keys,
        base_urls=base_urls,
        default_model=env.get("DEFAULT_MODEL", "").strip() or None,
        default_prompt=env.get("DEFAULT_PROMPT", "").strip() or "general-en",
        connect_timeout=number(env, "CAUSERIE_CONNECT_TIMEOUT", 10.0, minimum=0.1),
        read_timeout=number(env, "CAUSERIE_READ_TIMEOUT", 600.0, minimum=1),
        idle_timeout=number(env, "CAUSERIE_IDLE_TIMEOUT", 120.0, minimum=1),
        max_retries=_integer(env, "CAUSERIE_MAX_RETRIES", 3),
        discovery_timeout=number(env, "CAUSERIE_DISCOVERY_TIMEOUT", 5.0, minimum=0.1),
        concurrency_limit=concurrency,
        queue_max_size=_integer(env, "CAUSERIE_QUEUE_SIZE", 500, minimum=1),
        max_threads=_integer(env, "CAUSERIE_MAX_THREADS", concurrency, minimum=1),
        local_model_path=local_model_path,
        local_model_available=local_model_path is not None,
        open_browser=_open_browser(env),
        answer_grace_s=number(env, "ANSWER_GRACE_SECONDS", 300.0, minimum=0),
        max_attachment_mb=number(env, "MAX_ATTACHMENT_MB", 10.0, minimum=0.01),
        pdf_read_seconds=_integer(env, "PDF_READ_SECONDS", 5, minimum=1),
        upload_dir=upload_folder(),
        embed=flag(env, "EMBED", False),
        frame_ancestors=frame_ancestors(env),
        uploads_keep_hours=number(env, "UPLOADS_KEEP_HOURS", 24.0 if public.public else 0.0, minimum=0),
        patches=_patches(env),
        mcp=_mcp(env, public, basic_auth=bool(history.auth_users)),
        cockpit=_cockpit(env, basic_auth=bool(history.auth_users), oauth=oauth),
        tools=load_tool_settings(env),
        share_links=_share_links(env, public, basic_auth=bool(history.auth_users)),
        shares_per_person=_integer(env, "SHARES_PER_PERSON", 20 if public.public else 100, minimum=1),
    )

    wanted = env.get("DEFAULT_PROVIDER", "").strip().lower()
    if wanted:
        try:
            provider = get_provider(wanted)
        except KeyError as exc:
            raise SettingsError(f"DEFAULT_PROVIDER: {exc.args[0]}.") from None
        if not settings.is_ready(provider) and not (public.require_user_key and provider.key_env and not provider.local):
            raise SettingsError(f"DEFAULT_PROVIDER is {wanted} but it is not set up: {settings.what_to_set(provider)}.")
        settings = replace(settings, default_provider=wanted)
    return settings
