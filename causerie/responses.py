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

import json
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx

from .errors import classify_http_error, provider_message, redact
from .events import Citation, Event, Failure, Finish, ReasoningDelta, Status, TextDelta, Usage
from .model_info import XAI_TICKS_PER_USD
from .reading import ChatRequest

log = logging.getLogger(__name__)

# The output items a tool call shows up as, and what the chat says meanwhile.
TOOL_ITEMS = {"web_search_call": "web", "x_search_call": "x", "code_interpreter_call": "code",
              "code_execution_call": "code"}
TOOL_BY_NAME = {"web_search": "web", "x_search": "x", "code_execution": "code", "code_interpreter": "code"}


def responses_body(request: ChatRequest) -> dict[str, Any]:
    """The request body: the conversation as input items, the tools with their options, the
    generation parameters under the Responses API's names."""
    body: dict[str, Any] = {"model": request.model, "input": [_item(m) for m in request.messages],
                            "tools": [_tool(name, request.search) for name in request.tools],
                            "stream": True, "store": False}
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
    return body


def _item(message: Mapping[str, Any]) -> dict[str, Any]:
    content = message["content"]
    if isinstance(content, list):  # a question with images (attachments.with_files)
        content = [{"type": "input_text", "text": part["text"]} if part.get("type") == "text"
                   else {"type": "input_image", "image_url": part["image_url"]["url"]} for part in content]
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


class ResponsesClient:
    """Streams answers through the openai SDK's `responses.create(stream=True)`."""

    def __init__(self, *, connect_timeout: float, read_timeout: float) -> None:
        self.timeout = httpx.Timeout(read_timeout, connect=connect_timeout)

    def _client(self, request: ChatRequest, http: httpx.AsyncClient) -> Any:
        from openai import AsyncOpenAI  # the SDK is imported when a tool is first asked for

        endpoint = request.endpoint
        headers = dict(endpoint.provider.extra_headers)
        return AsyncOpenAI(api_key=endpoint.api_key or "none", base_url=endpoint.base_url, http_client=http,
                           max_retries=1, default_headers=headers)

    async def stream(self, request: ChatRequest) -> AsyncIterator[Event]:
        import openai

        endpoint, label = request.endpoint, request.endpoint.provider.label
        body = responses_body(request)
        opened = started = completed = False
        # Redirects are never followed (a key goes where it was set for); one client per answer,
        # closed with it, so a visitor's key is held nowhere after.
        async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=False, trust_env=False) as http:
            client = self._client(request, http)
            stream = None
            try:
                stream = await client.responses.create(**{k: v for k, v in body.items() if k != "stream"}, stream=True)
                async for event in stream:
                    opened = True
                    for out in _events(event, label):
                        if type(out) is TextDelta or type(out) is ReasoningDelta:
                            started = True
                        elif type(out) is Finish:
                            completed = True
                        yield out
                    if completed:
                        return
            except openai.APIStatusError as exc:
                detail = redact(provider_message(_body_text(exc)), endpoint.api_key)
                verdict = classify_http_error(endpoint, request.model, exc.status_code, detail, sent=body)
                yield verdict.failure
                return
            except openai.APITimeoutError:
                yield Failure("timeout", {"provider": label, "why": "idle" if started else "first",
                                          "seconds": self.timeout.read, "setting": "CAUSERIE_READ_TIMEOUT"})
                return
            except (openai.APIConnectionError, httpx.HTTPError) as exc:
                if opened:  # the answer (or a search) had begun
                    yield Failure("cut_off", {"provider": label, "why": "connection"})
                else:
                    yield Failure("connect", {"provider": label, "base_url": endpoint.base_url, "why": "other",
                                              "error": type(exc.__cause__ or exc).__name__,
                                              "base_url_env": endpoint.provider.base_url_env})
                return
            finally:
                if stream is not None:
                    await stream.close()  # Stop, a failure or the end: the provider's stream is closed
            if not completed:
                yield Failure("cut_off", {"provider": label, "why": "no_finish"})


def _body_text(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, (dict, list)):
        return json.dumps(body)
    return str(body or getattr(exc, "message", "") or "")


def _events(event: Any, label: str) -> list[Event]:
    """Causerie's events for one of the SDK's typed stream events."""
    kind = getattr(event, "type", "")
    if kind == "response.output_text.delta":
        return [TextDelta(event.delta)] if event.delta else []
    if kind == "response.reasoning_summary_text.delta":
        return [ReasoningDelta(event.delta)] if event.delta else []
    if kind == "response.output_text.annotation.added":
        annotation = _plain(event.annotation)
        if annotation.get("type") == "url_citation" and isinstance(annotation.get("url"), str):
            return [Citation(annotation["url"], str(annotation.get("title") or ""))]
        return []
    if kind == "response.output_item.added":
        item = _plain(event.item)
        tool = TOOL_ITEMS.get(item.get("type")) or (TOOL_BY_NAME.get(item.get("name")) if item.get("type") == "function_call"
                                                    and item.get("name") in TOOL_BY_NAME else None)
        if tool:
            return [Status("searching", {"why": tool, "provider": label, "query": _query(item)})]
        return []
    if kind == "response.completed" or kind == "response.incomplete":
        response = _plain(event.response)
        events: list[Event] = []
        if isinstance(usage := response.get("usage"), Mapping):
            events.append(_usage(usage))
        events.append(Finish("length" if kind == "response.incomplete" else "stop"))
        return events
    if kind in ("response.failed", "error"):
        source = _plain(getattr(event, "response", None) or event)
        error = source.get("error") if isinstance(source.get("error"), Mapping) else source
        detail = str(error.get("message") or error.get("code") or "the response failed")
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


def _query(item: Mapping[str, Any]) -> str | None:
    """What a search tool looks for: xAI puts it in `arguments` (JSON), OpenAI in `action.query`."""
    arguments = item.get("arguments")
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except ValueError:
            arguments = None
    if isinstance(arguments, Mapping) and isinstance(arguments.get("query"), str):
        return arguments["query"][:200]
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
    return Usage(prompt_tokens=count(usage.get("input_tokens")), completion_tokens=count(usage.get("output_tokens")),
                 reasoning_tokens=count(outputs.get("reasoning_tokens")) if isinstance(outputs, Mapping) else None,
                 cached_tokens=count(inputs.get("cached_tokens")) if isinstance(inputs, Mapping) else None,
                 cost_usd=ticks / XAI_TICKS_PER_USD if isinstance(ticks, (int, float)) else None)
