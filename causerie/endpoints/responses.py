"""The Responses path: a provider's own server-side tools (web and X search, code execution)
through its Responses API (`POST /responses`), read with the openai SDK's typed stream events.

It yields the same events as the Chat Completions wire (client.py), plus Citation for each
source the answer used and a "searching" Status while a tool runs, so the chat, the API, the
footer and the benchmark read it unchanged. Plain chat stays on the faster Chat Completions wire;
this path is taken only when tools are asked for. Conversations are sent whole each turn
(`store: false`: nothing is kept at the provider), with the conversation id as `prompt_cache_key`
so that a long chat's repeated beginning is billed as cached input.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import gc
import hashlib
import json
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from ..events import (
    Citation,
    Event,
    Failure,
    Finish,
    FunctionCall,
    Notice,
    Picture,
    ReasoningDelta,
    Status,
    TextDelta,
    ToolCalls,
    ToolStep,
    Usage,
)
from ..files.picture_store import PictureStore
from ..lru_cache import LRUCache
from .errors import classify_http_error, provider_message, redact
from .model_info import XAI_TICKS_PER_USD
from .proxies import proxy_for
from .reading import ChatRequest

log = logging.getLogger(__name__)

# The output items a tool call shows up as, and what the chat says meanwhile.
TOOL_ITEMS = {
    "web_search_call": "web",
    "x_search_call": "x",
    "code_interpreter_call": "code",
    "code_execution_call": "code",
    "image_generation_call": "image",
    "mcp_call": "tool",
}
# A server-side tool xAI streams as a custom tool call, by its name's beginning (X search arrives as
# "x_keyword_search", "x_semantic_search"…, its query in `input`).
TOOL_NAMES = (("x_", "x"), ("web_", "web"), ("browse_", "web"), ("code_", "code"), ("image_", "image"))
# Output items that are the answer itself, or are read elsewhere (the reasoning, kept for next turn).
SHOWN_ITEMS = {"message", "reasoning"}


def responses_body(request: ChatRequest, reasoning: ReasoningMemory | None = None) -> dict[str, Any]:
    """The request body: the conversation as input items (an earlier answer preceded by its
    encrypted reasoning, where it is remembered), the tools with their options, the generation
    parameters under the Responses API's names."""
    items: list[dict[str, Any]] = []
    for message in request.messages:
        if reasoning is not None and message["role"] == "assistant" and isinstance(message["content"], str):
            items += reasoning.recall(request, message["content"])
        items += _items(message)
    body: dict[str, Any] = {
        "model": request.model,
        "input": items,
        "tools": [_tool(name, request.search) for name in request.tools]
        + [{"type": "function", **function} for function in request.functions]
        + [dict(tool) for tool in request.remote_tools],
        "stream": True,
        "store": False,
    }
    if request.tool_choice:
        body["tool_choice"] = request.tool_choice
    params = request.params
    for name in ("temperature", "top_p"):
        if name in params:
            body[name] = params[name]
    if "max_tokens" in params:
        body["max_output_tokens"] = params["max_tokens"]
    if params.get("reasoning_effort"):
        body["reasoning"] = {"effort": params["reasoning_effort"]}
    if request.conversation_id:
        body["prompt_cache_key"] = request.conversation_id
    if request.endpoint.provider.encrypted_reasoning:
        body["include"] = ["reasoning.encrypted_content"]
    return body


class ReasoningMemory:
    """The encrypted reasoning of recent answers, by conversation and answer text: sent back
    before that answer on the conversation's next turn, as xAI asks when nothing is stored at the
    provider. Kept in this process only (a restart forgets it; the conversation goes on without)."""

    def __init__(self, most_bytes: int = 32_000_000) -> None:
        self._kept: LRUCache[list[dict[str, Any]]] = LRUCache(
            most_bytes, lambda items: sum(len(item.get("encrypted_content") or "") + 200 for item in items)
        )

    @staticmethod
    def _key(request: ChatRequest, answer: str) -> tuple[str, str]:
        """Where reasoning may go back to: the same conversation, provider, address, model and
        key (an account's blob means nothing to another, and must not reach it)."""
        endpoint = request.endpoint
        where = "\n".join(
            (
                request.conversation_id or "",
                endpoint.provider.id,
                endpoint.base_url,
                request.model,
                endpoint.api_key or "",
                answer.strip(),
            )
        )
        return request.conversation_id or "", hashlib.sha256(where.encode()).hexdigest()

    def keep(self, request: ChatRequest, answer: str, items: list[dict[str, Any]]) -> None:
        if not request.conversation_id or not items or not answer.strip():
            return
        self._kept.put(self._key(request, answer), items)

    def recall(self, request: ChatRequest, answer: str) -> list[dict[str, Any]]:
        if not request.conversation_id or not request.endpoint.provider.encrypted_reasoning:
            return []
        return list(self._kept.get(self._key(request, answer)) or ())


def _reasoning_items(response: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The output's reasoning items that carry encrypted content, as input items."""
    return [
        {
            "type": "reasoning",
            "id": item.get("id"),
            "summary": item.get("summary") or [],
            "encrypted_content": item["encrypted_content"],
        }
        for item in response.get("output") or ()
        if isinstance(item, Mapping) and item.get("type") == "reasoning" and isinstance(item.get("encrypted_content"), str)
    ]


def _items(message: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A Chat Completions message as input items: a tool call is a `function_call` item, its result a
    `function_call_output`."""
    if message["role"] == "tool":
        return [{"type": "function_call_output", "call_id": message["tool_call_id"], "output": message["content"]}]
    calls = [
        {
            "type": "function_call",
            "call_id": call["id"],
            "name": call["function"]["name"],
            "arguments": call["function"]["arguments"],
        }
        for call in message.get("tool_calls") or ()
    ]
    return ([_item(message)] if message["content"] or not calls else []) + calls


def _item(message: Mapping[str, Any]) -> dict[str, Any]:
    content = message["content"]
    if isinstance(content, list):  # a question with images (attachments.with_files)
        content = [
            {"type": "input_text", "text": part["text"]}
            if part.get("type") == "text"
            else {"type": "input_image", "image_url": part["image_url"]["url"]}
            for part in content
        ]
    return {"role": message["role"], "content": content}


def _tool(name: str, search: Any) -> dict[str, Any]:
    tool: dict[str, Any] = {"type": name}
    if search is None:
        return tool
    if name == "x_search":
        if search.x_handles:
            tool["allowed_x_handles"] = list(search.x_handles)
        if search.excluded_x_handles:
            tool["excluded_x_handles"] = list(search.excluded_x_handles)
        if search.from_date:
            tool["from_date"] = search.from_date
        if search.to_date:
            tool["to_date"] = search.to_date
    return tool


SAMPLE_EVENTS = (
    {
        "type": "response.created",
        "sequence_number": 0,
        "response": {"id": "r", "object": "response", "created_at": 0, "model": "m", "output": [], "status": "in_progress"},
    },
    {
        "type": "response.output_item.added",
        "sequence_number": 1,
        "output_index": 0,
        "item": {
            "type": "web_search_call",
            "id": "w",
            "status": "completed",
            "name": "web_search",
            "arguments": '{"query": "q"}',
        },
    },
    {
        "type": "response.output_item.added",
        "sequence_number": 2,
        "output_index": 1,
        "item": {"type": "message", "id": "m", "role": "assistant", "status": "in_progress", "content": []},
    },
    {
        "type": "response.output_text.delta",
        "sequence_number": 3,
        "item_id": "m",
        "output_index": 1,
        "content_index": 0,
        "delta": "d",
        "logprobs": [],
    },
    {
        "type": "response.completed",
        "sequence_number": 4,
        "response": {"id": "r", "object": "response", "created_at": 0, "model": "m", "output": [], "status": "completed"},
    },
)
"""Events of the kinds a search answer streams, in the shapes xAI sends (tests/fixtures/responses/)."""


def prepare_event_types() -> None:
    """Import the openai SDK and build its stream event types, as its stream will. Done lazily,
    on the first search answer, on the event loop, that cost every stream of the process a pause:
    0.6 s to import the SDK, then 0.75 s for the first output item of a shape its types do not
    describe (xAI's web_search_call), during which a search's "Searching the web" never showed.
    Run once, in a thread of its own, shortly after the server starts (ChatService). `construct_type` is the SDK's own
    parser for stream events (a private name: if it is gone, nothing is prepared)."""
    try:
        from openai._models import construct_type
        from openai.types.responses import ResponseStreamEvent

        for sample in SAMPLE_EVENTS:
            construct_type(type_=ResponseStreamEvent, value=sample)
    except Exception:  # noqa: BLE001 (another SDK: its first search pays its own cost, as before)
        log.info("The openai SDK's event types were not prepared ahead of the first search", exc_info=True)
    # The SDK and its types live as long as the process, as the start-up objects app.py freezes
    # do: frozen too, the garbage collector never scans them again. Left to it, they made each
    # full collection longer: at 100 questions at once, time to first token p50 0.41 to 0.48 s
    # against 0.34 s frozen, or not prepared (bench/NOTES.md, "The SDK's types").
    gc.freeze()


class ResponsesClient:
    """Streams answers through the openai SDK's `responses.create(stream=True)`."""

    def __init__(
        self, *, connect_timeout: float, read_timeout: float, idle_timeout: float = 120.0, pictures: PictureStore | None = None
    ) -> None:
        self.timeout = httpx.Timeout(read_timeout, connect=connect_timeout)
        self.pictures = pictures
        """Where a picture the answer made (an image_generation_call's result) is kept; None: said unshown."""
        self.idle_s = idle_timeout
        self.reasoning = ReasoningMemory()
        self._pools: dict[str | None, httpx.AsyncClient] = {}
        self._loop: Any = None

    def _pool(self, url: str) -> httpx.AsyncClient:
        """One connection pool per proxy for every answer of this event loop (making a client costs
        a TLS context: ~10 ms of CPU each). The proxy is the chat wire's (proxies.py: the
        environment's, never for loopback, never ~/.netrc). Redirects are never followed: a key
        goes where it was set for; the SDK is given each answer's key, and holds it no longer than
        the answer."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._pools, self._loop = {}, loop
        target = urlsplit(url)
        proxy, auth = proxy_for(target.scheme, target.hostname or "")
        pool = self._pools.get(proxy)
        if pool is None or pool.is_closed:
            via = httpx.Proxy(proxy, auth=(auth.login, auth.password) if auth else None) if proxy else None
            pool = self._pools[proxy] = httpx.AsyncClient(
                timeout=self.timeout,
                follow_redirects=False,
                trust_env=False,
                proxy=via,
                limits=httpx.Limits(max_connections=None, max_keepalive_connections=50),
                event_hooks={"request": [_only_our_headers]},
            )
        return pool

    async def aclose(self) -> None:
        if self._loop is asyncio.get_running_loop():
            for pool in self._pools.values():
                await pool.aclose()
        self._pools = {}

    def _client(self, request: ChatRequest, http: httpx.AsyncClient) -> Any:
        from openai import AsyncOpenAI  # the SDK is imported when a tool is first asked for

        endpoint = request.endpoint
        headers = dict(endpoint.provider.extra_headers)
        # No retries of the SDK's own (a retry would be silent: the chat wire says when it retries),
        # and no organisation, project or custom headers from the server's OPENAI_* environment.
        return AsyncOpenAI(
            api_key=endpoint.api_key or "none",
            base_url=endpoint.base_url,
            http_client=http,
            max_retries=0,
            default_headers=headers,
            organization=None,
            project=None,
        )

    async def stream(self, request: ChatRequest) -> AsyncIterator[Event]:
        import openai

        endpoint, label = request.endpoint, request.endpoint.provider.label
        body = responses_body(request, self.reasoning)
        opened = started = completed = False
        text: list[str] = []
        calls: list[FunctionCall] = []
        client = self._client(request, self._pool(endpoint.base_url))
        stream = None
        try:
            # (prompt_cache_key as an extra field: older SDKs do not name it.)
            sent = {k: v for k, v in body.items() if k not in ("stream", "prompt_cache_key")}
            extra = {"prompt_cache_key": body["prompt_cache_key"]} if "prompt_cache_key" in body else None
            stream = await client.responses.create(**sent, stream=True, extra_body=extra)
            events = stream.__aiter__()
            while True:
                try:
                    # Once the answer has begun, a pause longer than CAUSERIE_IDLE_TIMEOUT ends it.
                    async with asyncio.timeout(self.idle_s if started else None):
                        event = await events.__anext__()
                except StopAsyncIteration:
                    break
                opened = True
                if self.pictures is not None and (made := _made_picture(event)) is not None:
                    yield await self._kept(made, label)
                    continue
                if (call := _function_call(event)) is not None:
                    calls.append(call)
                    continue
                for out in _events(event, label, endpoint.api_key):
                    if type(out) is Failure:
                        yield out
                        return  # the provider's own reason; nothing after it
                    if type(out) is TextDelta or type(out) is ReasoningDelta:
                        started = True
                        if type(out) is TextDelta:
                            text.append(out.text)
                    elif type(out) is Finish:
                        completed = True
                        self.reasoning.keep(request, "".join(text), _reasoning_items(_plain(getattr(event, "response", None))))
                        if calls:  # (the model's turn ended asking for calls: answering/tool_rounds.py runs them)
                            yield ToolCalls(tuple(calls))
                            out = Finish("tool_calls")
                    yield out
                if completed:
                    return
        except openai.APIStatusError as exc:
            status = exc.status_code
            if 300 <= status < 400:  # never followed: the key goes to the address it was set for
                location = redact(exc.response.headers.get("location", "?"), endpoint.api_key)
                yield Failure(
                    "redirected", {"provider": label, "base_url": endpoint.base_url, "status": status, "location": location[:200]}
                )
                return
            detail = redact(provider_message(_body_text(exc)), endpoint.api_key)
            verdict = classify_http_error(endpoint, request.model, status, detail, sent=body)
            yield verdict.failure
            return
        except (openai.APITimeoutError, TimeoutError):
            yield Failure(
                "timeout",
                {
                    "provider": label,
                    "why": "idle" if started else "first",
                    "seconds": self.idle_s if started else self.timeout.read,
                    "setting": "CAUSERIE_IDLE_TIMEOUT" if started else "CAUSERIE_READ_TIMEOUT",
                },
            )
            return
        except ValueError:  # an event that is not JSON
            yield Failure("invalid_stream", {"provider": label})
            return
        except (openai.APIConnectionError, httpx.HTTPError) as exc:
            if opened:  # the answer (or a search) had begun
                yield Failure("cut_off", {"provider": label, "why": "connection"})
            else:
                yield Failure(
                    "connect",
                    {
                        "provider": label,
                        "base_url": endpoint.base_url,
                        "why": "other",
                        "error": type(exc.__cause__ or exc).__name__,
                        "base_url_env": endpoint.provider.base_url_env,
                    },
                )
            return
        except openai.APIError as exc:  # an `error` event in the stream (xAI's flat error shape)
            detail = redact(provider_message(_body_text(exc)) or str(getattr(exc, "message", "")), endpoint.api_key)
            yield Failure("stream_error", {"provider": label, "why": None if started else "whole", "detail": detail[:300]})
            return
        finally:
            if stream is not None:
                await stream.close()  # Stop, a failure or the end: the provider's stream is closed
        if not completed:
            yield Failure("cut_off", {"provider": label, "why": "no_finish"})

    async def _kept(self, made: tuple[str, str], label: str) -> Picture | Notice:
        """A picture of the answer (base64), kept in the app's store; said unshown when it is none."""
        encoded, revised = made
        try:
            data = base64.b64decode(encoded, validate=True)
            kept = await asyncio.to_thread(self.pictures.keep, data)  # type: ignore[union-attr]
        except (binascii.Error, ValueError):  # (NotAPicture is one)
            return Notice("unshown", {"why": "image", "what": "image_generation_call"})
        return Picture(kept.path, kept.mime_type, kept.size, revised)


def _function_call(event: Any) -> FunctionCall | None:
    """A function call the model asked for, once its item is done."""
    if getattr(event, "type", "") != "response.output_item.done":
        return None
    item = _plain(getattr(event, "item", None))
    if item.get("type") != "function_call" or not isinstance(item.get("name"), str):
        return None
    arguments = item.get("arguments")
    return FunctionCall(
        str(item.get("call_id") or item.get("id") or ""), item["name"], arguments if isinstance(arguments, str) else ""
    )


def remote_step(item: Mapping[str, Any], label: str) -> ToolStep | None:
    """A tool the provider ran on its side, shown as a step once done: its code execution (the code,
    and what it printed) or a remote MCP server's call (xAI's remote MCP; OpenAI's `mcp_call`)."""
    kind = item.get("type")
    ident = str(item.get("id") or "")[:64]
    if kind in ("code_interpreter_call", "code_execution_call"):
        outputs = item.get("outputs") or item.get("results") or ()
        printed = "\n".join(
            str(part.get("logs") or part.get("output") or "") if isinstance(part, Mapping) else "" for part in outputs
        ).strip()
        failed = item.get("status") == "failed"
        return ToolStep(
            ident or "code",
            "",
            "code_execution",
            str(item.get("code") or "")[:20_000],
            "failed" if failed else "done",
            printed[:20_000],
            remote=True,
        )
    if kind == "mcp_call":
        error = item.get("error")
        result = str(error if error else item.get("output") or "")[:20_000]
        return ToolStep(
            ident or "mcp",
            str(item.get("server_label") or "")[:32],
            str(item.get("name") or "?")[:64],
            str(item.get("arguments") or "")[:20_000],
            "failed" if error else "done",
            result,
            remote=True,
        )
    return None


def _made_picture(event: Any) -> tuple[str, str] | None:
    """(base64 picture, revised prompt) when the event is a finished image_generation_call with its
    result (xAI's and OpenAI's image tool); None for any other event."""
    if getattr(event, "type", "") != "response.output_item.done":
        return None
    item = _plain(event.item)
    if item.get("type") != "image_generation_call" or not isinstance(item.get("result"), str) or not item["result"]:
        return None
    revised = item.get("revised_prompt")
    return item["result"], revised.strip()[:4000] if isinstance(revised, str) else ""


_SENT_HEADERS = {
    "authorization",
    "content-type",
    "accept",
    "content-length",
    "host",
    "user-agent",
    "x-title",
    "accept-encoding",
    "connection",
}


async def _only_our_headers(request: httpx.Request) -> None:
    """What the chat wire sends, no more: the SDK adds headers describing this machine
    (X-Stainless-*) and whatever OPENAI_* variables of the server's environment say, which must
    not reach another provider or a visitor's server."""
    for name in list(request.headers):
        if name.lower() not in _SENT_HEADERS:
            del request.headers[name]


def _body_text(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, (dict, list)):
        return json.dumps(body)
    return str(body or getattr(exc, "message", "") or "")


def _events(event: Any, label: str, key: str | None = None) -> list[Event]:
    """Causerie's events for one of the SDK's typed stream events."""
    kind = getattr(event, "type", "")
    if kind == "response.output_text.delta":
        return [TextDelta(event.delta)] if event.delta else []
    if kind == "response.reasoning_summary_text.delta":
        return [ReasoningDelta(event.delta)] if event.delta else []
    if kind == "response.output_text.annotation.added":
        annotation = _plain(event.annotation)
        url = annotation.get("url")
        if annotation.get("type") == "url_citation" and isinstance(url, str) and url.startswith(("https://", "http://")):
            title = " ".join(str(annotation.get("title") or "").split())[:200]  # one line
            return [Citation(url, title)]
        return []
    if kind == "response.output_item.added" or kind == "response.output_item.done":
        item = _plain(event.item)
        tool, name = _tool_of(item)
        query = _query(item)
        found: list[Event] = []
        if tool and (kind.endswith("added") or query):  # (OpenAI names the query when the search is done)
            found.append(
                Status(
                    "searching", {"why": tool, "provider": label, "query": query, "tool": name, "item": str(item.get("id") or "")}
                )
            )
        if kind.endswith("done") and (step := remote_step(item, label)) is not None:
            found.append(step)
            return found
        if kind.endswith("done") and item.get("type") == "mcp_list_tools":
            return found
        if kind.endswith("done") and (tool == "image" or (not tool and item.get("type") not in SHOWN_ITEMS)):
            # Output this chat cannot show yet is said, never dropped without a word.
            found.append(
                Notice("unshown", {"why": "image" if tool == "image" else None, "what": str(item.get("type") or "?")[:60]})
            )
        return found
    if kind == "response.completed" or kind == "response.incomplete":
        response = _plain(event.response)
        events: list[Event] = []
        if isinstance(usage := response.get("usage"), Mapping):
            events.append(_usage(usage))
        reason = (response.get("incomplete_details") or {}).get("reason") if kind == "response.incomplete" else None
        events.append(
            Finish("stop" if kind == "response.completed" else "content_filter" if reason == "content_filter" else "length")
        )
        return events
    if kind in ("response.failed", "error"):
        source = _plain(getattr(event, "response", None) or event)
        error = source.get("error") if isinstance(source.get("error"), Mapping) else source
        detail = redact(str(error.get("message") or error.get("code") or "the response failed"), key)
        return [Failure("stream_error", {"provider": label, "detail": detail[:300]})]
    return []


def _plain(value: Any) -> dict[str, Any]:
    """An SDK model (extra fields included: xAI sends some the SDK does not name) as a dict."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return dict(value)
    dump = getattr(value, "model_dump", None)
    return dump() if dump else {}


def _tool_of(item: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """Which kind of server-side tool an output item is (web, x, code, image, or "tool" for one of
    another name), and its name; (None, None) for the answer's own items."""
    kind, name = item.get("type"), item.get("name")
    name = name[:60] if isinstance(name, str) and name else None
    if kind in TOOL_ITEMS:
        return TOOL_ITEMS[kind], name
    if kind == "custom_tool_call":
        return next((tool for prefix, tool in TOOL_NAMES if (name or "").startswith(prefix)), "tool"), name
    return None, None


def _query(item: Mapping[str, Any]) -> str | None:
    """What a search tool looks for: xAI puts it in `arguments` (JSON; `input` for a custom tool
    call, as X search streams), OpenAI in `action.query`."""
    for arguments in (item.get("arguments"), item.get("input")):
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments)
            except ValueError:
                arguments = None
        if isinstance(arguments, Mapping) and isinstance(arguments.get("query"), str):
            return " ".join(arguments["query"].split())[:200]
    action = item.get("action")
    if isinstance(action, Mapping) and isinstance(action.get("query"), str):
        return action["query"][:200]
    return None


def _usage(usage: Mapping[str, Any]) -> Usage:
    def count(value: Any) -> int | None:
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    inputs = usage.get("input_tokens_details") or {}
    outputs = usage.get("output_tokens_details") or {}
    ticks = usage.get("cost_in_usd_ticks")
    return Usage(
        prompt_tokens=count(usage.get("input_tokens")),
        completion_tokens=count(usage.get("output_tokens")),
        reasoning_tokens=count(outputs.get("reasoning_tokens")) if isinstance(outputs, Mapping) else None,
        cached_tokens=count(inputs.get("cached_tokens")) if isinstance(inputs, Mapping) else None,
        cost_usd=ticks / XAI_TICKS_PER_USD if isinstance(ticks, (int, float)) else None,
        tool_calls=count(usage.get("num_server_side_tools_used")),
    )
