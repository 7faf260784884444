"""Providers are data: one frozen record per OpenAI-compatible service, and one table of presets.

Adding a provider is adding a row. Capabilities are flags on the record, never guessed from model
names. Which providers are usable, with which key and base URL, is decided in settings.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Provider:
    id: str
    label: str
    base_url: str
    key_env: str | None
    """Where the server's key for this provider is read from; None for keyless local servers."""
    base_url_env: str | None = None
    """Overrides base_url (OPENAI_BASE_URL points the OpenAI slot at any compatible server)."""
    local: bool = False
    """A server on the person's own machine: ready when its address is set, no key needed."""
    managed: bool = False
    """Started by Causerie itself (the bundled offline model); its address is known at run time."""
    preferred_models: tuple[str, ...] = ()
    """Tried in order against GET /models to pick a default model; else the first listed."""
    usage_in_stream: bool = True
    """Accepts stream_options.include_usage (Mistral answers 422 to it)."""
    max_tokens_field: str = "max_tokens"
    """The field that bounds an answer's tokens, reasoning included: OpenAI's reasoning models
    refuse `max_tokens` and take `max_completion_tokens`, which xAI takes too; Mistral refuses the
    latter."""
    takes_store: bool = False
    """Accepts `store: false` on Chat Completions: keep no copy of the exchange (OpenAI)."""
    default_max_tokens: int | None = None
    """An answer's length when the person set none (a small model can ramble on for pages)."""
    max_concurrent: int | None = None
    """Requests beyond this wait their turn (a small local server must not thrash)."""
    models_path: str = "/models"
    """Where the model list is; xAI's /language-models also gives prices and modalities."""
    prices_in_models_list: bool = False
    completion_excludes_reasoning: bool = False
    """xAI counts reasoning tokens apart from completion_tokens; OpenAI counts them inside."""
    extra_headers: tuple[tuple[str, str], ...] = ()
    docs_url: str = ""
    responses_tools: tuple[str, ...] = ()
    """Server-side tools its Responses API (POST /responses) runs for the model (responses.py)."""
    conversation_header: str | None = None
    """A header naming the conversation, for the provider's prompt cache (xAI: x-grok-conv-id)."""
    encrypted_reasoning: bool = False
    """Its Responses API returns the model's reasoning encrypted (with store: false) and wants it
    back on the next turn (xAI)."""
    pictures: str | None = None
    """The shape of its picture API (endpoints/pictures.py): "xai" (JSON generations and edits,
    `aspect_ratio`), "openai" (JSON generations, `size`; multipart edits); None: no pictures."""
    picture_model: str | None = None
    """The model that makes pictures when the chat's model is not a picture model (/image)."""
    transcription: str | None = None
    """The shape of its speech-to-text API (endpoints/speech.py): "xai" (POST /stt, multipart, no
    model), "openai" (POST /audio/transcriptions, multipart); None: it transcribes nothing."""
    transcription_model: str | None = None
    """Its speech-to-text model (xAI's takes no model: the name is the price table's)."""
    speech: str | None = None
    """The shape of its text-to-speech API: "xai" (POST /tts, `voice_id`), "openai" (POST
    /audio/speech, `voice`); None: it reads nothing aloud."""
    speech_model: str | None = None
    voices: tuple[str, ...] = ()
    """The voices it reads with, the first its default."""
    functions: bool = True
    """Takes `tools` and answers with `tool_calls` (function calling): MCP servers' tools are offered
    to its models (answering/tool_rounds.py). The bundled small model cannot."""
    remote_mcp: bool = False
    """Its Responses API calls MCP servers itself (a tool of type "mcp"; XAI_REMOTE_MCP)."""


PROVIDERS: tuple[Provider, ...] = (
    Provider(
        "xai",
        "xAI (Grok)",
        "https://api.x.ai/v1",
        "XAI_API_KEY",
        "XAI_BASE_URL",
        # (grok-4-0709, grok-4-fast-*, grok-4-1-fast-*, grok-code-fast-1 and grok-3 were retired on 2026-05-15.)
        preferred_models=("grok-4.3", "grok-4.5", "grok-4.6", "grok-4.7", "grok-3-mini"),
        completion_excludes_reasoning=True,
        models_path="/language-models",
        max_tokens_field="max_completion_tokens",
        prices_in_models_list=True,
        docs_url="https://console.x.ai",
        responses_tools=("web_search", "x_search", "code_execution"),
        conversation_header="x-grok-conv-id",
        encrypted_reasoning=True,
        pictures="xai",
        picture_model="grok-imagine-image",
        transcription="xai",
        transcription_model="grok-stt",
        speech="xai",
        speech_model="grok-tts",
        voices=("eve", "ara", "rex", "sal", "leo"),
        remote_mcp=True,
    ),
    Provider(
        "openai",
        "OpenAI",
        "https://api.openai.com/v1",
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        preferred_models=("gpt-5-mini", "gpt-4.1-mini", "gpt-4o-mini"),
        docs_url="https://platform.openai.com/api-keys",
        responses_tools=("web_search",),
        max_tokens_field="max_completion_tokens",
        takes_store=True,
        pictures="openai",
        picture_model="gpt-image-1",
        transcription="openai",
        transcription_model="gpt-4o-mini-transcribe",
        speech="openai",
        speech_model="gpt-4o-mini-tts",
        voices=("alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer", "verse"),
    ),
    Provider(
        "groq",
        "Groq",
        "https://api.groq.com/openai/v1",
        "GROQ_API_KEY",
        "GROQ_BASE_URL",
        preferred_models=("llama-3.3-70b-versatile", "moonshotai/kimi-k2-instruct"),
        docs_url="https://console.groq.com/keys",
        transcription="openai",
        transcription_model="whisper-large-v3-turbo",
    ),
    Provider(
        "openrouter",
        "OpenRouter",
        "https://openrouter.ai/api/v1",
        "OPENROUTER_API_KEY",
        "OPENROUTER_BASE_URL",
        preferred_models=("x-ai/grok-4-fast", "openai/gpt-4o-mini"),
        extra_headers=(("X-Title", "Causerie"),),
        docs_url="https://openrouter.ai/keys",
    ),
    Provider(
        "huggingface",
        "Hugging Face router",
        "https://router.huggingface.co/v1",
        "HF_TOKEN",
        "HF_BASE_URL",
        preferred_models=("moonshotai/Kimi-K2-Instruct", "meta-llama/Llama-3.3-70B-Instruct"),
        docs_url="https://huggingface.co/settings/tokens",
    ),
    Provider(
        "mistral",
        "Mistral",
        "https://api.mistral.ai/v1",
        "MISTRAL_API_KEY",
        "MISTRAL_BASE_URL",
        preferred_models=("mistral-small-latest", "mistral-medium-latest"),
        usage_in_stream=False,
        docs_url="https://console.mistral.ai/api-keys",
    ),
    Provider(
        "deepseek",
        "DeepSeek",
        "https://api.deepseek.com",
        "DEEPSEEK_API_KEY",
        "DEEPSEEK_BASE_URL",
        preferred_models=("deepseek-chat", "deepseek-reasoner"),
        docs_url="https://platform.deepseek.com/api_keys",
    ),
    Provider(
        "together",
        "Together",
        "https://api.together.xyz/v1",
        "TOGETHER_API_KEY",
        "TOGETHER_BASE_URL",
        preferred_models=("meta-llama/Llama-3.3-70B-Instruct-Turbo",),
        docs_url="https://api.together.ai/settings/api-keys",
    ),
    Provider(
        "gemini",
        "Gemini",
        "https://generativelanguage.googleapis.com/v1beta/openai",
        "GEMINI_API_KEY",
        "GEMINI_BASE_URL",
        preferred_models=("gemini-2.5-flash", "models/gemini-2.5-flash"),
        docs_url="https://aistudio.google.com/apikey",
    ),
    Provider("ollama", "Ollama", "http://localhost:11434/v1", None, "OLLAMA_BASE_URL", local=True),
    Provider("lmstudio", "LM Studio", "http://localhost:1234/v1", None, "LMSTUDIO_BASE_URL", local=True),
    Provider("vllm", "vLLM", "http://localhost:8000/v1", "VLLM_API_KEY", "VLLM_BASE_URL", local=True),
    Provider("llamacpp", "llama.cpp server", "http://localhost:8080/v1", None, "LLAMACPP_BASE_URL", local=True),
    Provider(
        "local",
        "Local (offline)",
        "",
        None,
        None,
        local=True,
        managed=True,
        usage_in_stream=True,
        # SmolLM2-135M went past 1,000 tokens on "Write a letter"; 512 is a long letter for it.
        default_max_tokens=512,
        max_concurrent=1,
        functions=False,
    ),
)

PROVIDERS_BY_ID: dict[str, Provider] = {p.id: p for p in PROVIDERS}


def get_provider(provider_id: str) -> Provider:
    try:
        return PROVIDERS_BY_ID[provider_id]
    except KeyError:
        known = ", ".join(PROVIDERS_BY_ID)
        raise KeyError(f"Unknown provider {provider_id!r}; known providers: {known}") from None


@dataclass(frozen=True)
class Endpoint:
    """Where one request goes: a provider, its base URL and the key to send (if any).

    Built per request, so a visitor's own key and base URL can travel with it. The key never
    appears in repr() or in any message.
    """

    provider: Provider
    base_url: str
    api_key: str | None = field(default=None, repr=False)
    key_from: str = "server"
    """Whose key this is: "server" (the environment's), "visitor" (typed on the page or given to the
    API), "login" (a visitor's Hugging Face login token) or "none"."""
    public_only: bool = False
    """A visitor's own base URL in public mode: connect to public internet addresses only (egress.py)."""
    owner_pays: bool = False
    """The server's owner pays for what is asked here (their key, or their own server): the limits
    on spending apply (MAX_TOKENS_CAP, TOKENS_PER_HOUR)."""

    @property
    def chat_url(self) -> str:
        return self.base_url.rstrip("/") + "/chat/completions"

    def pictures_url(self, edit: bool) -> str:
        return self.base_url.rstrip("/") + ("/images/edits" if edit else "/images/generations")

    @property
    def models_url(self) -> str:
        return self.base_url.rstrip("/") + self.provider.models_path

    def headers(self) -> dict[str, str]:
        headers = dict(self.provider.extra_headers)
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers


def pick_default_model(provider: Provider, available: list[str]) -> str | None:
    """The first preferred model that the provider lists (exact, then as a prefix), else the first."""
    for wanted in provider.preferred_models:
        if wanted in available:
            return wanted
    for wanted in provider.preferred_models:
        for model in available:
            if model.startswith(wanted):
                return model
    return available[0] if available else None
