"""The programmatic endpoints, /chat, /chat_details, /compare, /leaderboard, /image, /transcribe
and /speak: API-only, independent of the page.

Every argument is checked here, at the edge (options.py), and refused by name before any
provider is called. The page and the API take the same settings.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import gradio as gr

from ..answering.answer import Answer
from ..answering.messages import STEP_STATES, step_line
from ..answering.options import (
    ChatOptions,
    InvalidOptions,
    api_key_value,
    api_options,
    checked_id,
    optional_text,
    picture_options,
    plain_history,
    question,
    spoken_language,
    stripped,
)
from ..answering.pictures import PictureAsk
from ..answering.service import ChatService
from ..answering.speakable import said_language
from ..answering.voice import ReadAloud, SpokenPiece
from ..compare.compare import MAX_SIDES, compare_once, compared, side_options
from ..compare.rating import preset_kind
from ..compare.votes import BallotBox
from ..events import Failure
from ..files.audio import discard_recording, joined_audio
from ..history.shares import MOST_SNAPSHOT_CHARS, ShareChoices, SharesOnFirstUse, snapshot_chars, snapshot_of
from ..history.store.errors import StoreError
from ..i18n.wording import words
from .api_calls import arity
from .leaderboard_page import rows
from .render import kept_step, picture_files
from .share_page import page_root
from .visitors import visitor_of

ARGUMENTS = (
    "message",
    "history",
    "system_prompt",
    "provider",
    "model",
    "temperature",
    "max_tokens",
    "reasoning_effort",
    "top_p",
    "api_key",
    "base_url",
    "tools",
    "x_handles",
    "excluded_x_handles",
    "from_date",
    "to_date",
    "models",
    "mcp_tools",
    "auto_approve",
)
"""The arguments the endpoints take by name and pass on (each endpoint's signature gives its
positional order: new arguments go last)."""


def _error(message: str) -> gr.Error:
    return gr.Error(message, print_exception=False)


def _raise_failure(answer: Answer | None) -> None:
    if answer is None:
        raise _error("No answer.")
    if answer.failure is not None:
        raise _error(answer.failure.message)


def register_api(
    service: ChatService, default_system_prompt: str | None, ballots: BallotBox, shares: SharesOnFirstUse | None = None
) -> None:
    """Call inside the Blocks context. Both endpoints take the same arguments; gr.api reads each
    function's own signature, so each spells them out and hands them to `ask` by name."""

    def ask(arguments: dict[str, Any], request: gr.Request | None) -> AsyncIterator[Answer]:
        try:
            turns = _turns(arguments)
            options = api_options(default_system_prompt=default_system_prompt, **arguments)
        except InvalidOptions as exc:
            raise _error(exc.failure.message) from None
        return service.answers(options, turns, visitor_of(request, service.settings))

    async def chat(
        message: str,
        history: list[dict] | None = None,
        system_prompt: str | None = None,
        provider: str | None = None,
        model: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        reasoning_effort: str | None = None,
        top_p: float | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        tools: list[str] | None = None,
        x_handles: str | None = None,
        excluded_x_handles: str | None = None,
        from_date: str | None = None,
        to_date: str | None = None,
        mcp_tools: list[str] | str | None = None,
        auto_approve: list[str] | None = None,
        request: gr.Request = None,
    ) -> AsyncIterator[str]:
        """Ask a model; streams the answer as it grows, and ends with the whole answer. `api_key`:
        your own key for the provider (used for this call only); `base_url`: your own
        OpenAI-compatible endpoint, where the server allows one; `tools`: the provider's own
        server-side tools ("web_search", "x_search", "code_execution"), with `x_handles`,
        `excluded_x_handles` (names separated by commas), `from_date` and `to_date` (YYYY-MM-DD)
        for the searches. `mcp_tools`: the MCP servers' tools the model may call ("all", or a list
        of "server:tool"); `auto_approve`: the "server:tool" calls you approve in advance (any
        other call is denied: an API call cannot click Allow). Each call is a line before the answer."""
        arguments = {name: value for name, value in locals().items() if name in ARGUMENTS}
        sent, answer = "", None
        async for answer in ask(arguments, request):
            if answer.failure is None and (shown := _with_steps(answer)) != sent:
                sent = shown
                yield sent
        _raise_failure(answer)
        if not sent:
            yield answer.text  # an answer with no text (a tool call): the call still returns

    async def chat_details(
        message: str,
        history: list[dict] | None = None,
        system_prompt: str | None = None,
        provider: str | None = None,
        model: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        reasoning_effort: str | None = None,
        top_p: float | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        tools: list[str] | None = None,
        x_handles: str | None = None,
        excluded_x_handles: str | None = None,
        from_date: str | None = None,
        to_date: str | None = None,
        mcp_tools: list[str] | str | None = None,
        auto_approve: list[str] | None = None,
        request: gr.Request = None,
    ) -> dict:
        """Ask a model; returns the answer with its reasoning, usage, timings, cost, finish reason,
        notices, citations (the sources its searches used, as {url, title}) and tool_calls
        ([{server, tool, arguments, result, state, approved, duration_s}]). The other arguments as
        for /chat."""
        arguments = {name: value for name, value in locals().items() if name in ARGUMENTS}
        answer = None
        async for answer in ask(arguments, request):  # noqa: B007 (the last one is the whole answer)
            pass
        _raise_failure(answer)
        return {**answer.details(), "images": made_pictures(answer)}

    async def compare(
        message: str,
        models: list[str],
        history: list[dict] | None = None,
        system_prompt: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        reasoning_effort: str | None = None,
        top_p: float | None = None,
        tools: list[str] | None = None,
        x_handles: str | None = None,
        excluded_x_handles: str | None = None,
        from_date: str | None = None,
        to_date: str | None = None,
        request: gr.Request = None,
    ) -> list[dict]:
        """Ask several models the same question at once (`models`: 1 to 4 "provider:model"
        strings, as in "xai:grok-4.3"); returns one object per model, in the order given: model,
        answer, error (null, or why that model gave no whole answer), timings, usage, cost_usd.
        The other arguments as for /chat (the server's keys only: a key is for one provider)."""
        arguments = {name: value for name, value in locals().items() if name in ARGUMENTS}
        try:
            refs = compared_models(arguments.pop("models"))
            turns = _turns(arguments)
            base = api_options(default_system_prompt=default_system_prompt, provider=None, model=None, **arguments)
        except InvalidOptions as exc:
            raise _error(exc.failure.message) from None
        sides = side_options(base, refs, argument="models[{}]")
        answers = await compare_once(service, sides, turns, visitor_of(request, service.settings))
        return [compared(ref, answer) for ref, answer in zip(refs, answers, strict=True)]

    async def image(
        prompt: str,
        provider: str | None = None,
        model: str | None = None,
        n: int | None = 1,
        aspect_ratio: str | None = None,
        image: dict | None = None,
        api_key: str | None = None,
        request: gr.Request = None,
    ) -> list[dict]:
        """Make pictures (or, with `image`, change that picture): `prompt` says what to draw;
        `provider` ("xai", "openai"; default: the server's) and `model` (default: the provider's
        picture model); `n`, 1 to 4; `aspect_ratio` ("1:1", "16:9", "9:16", "4:3", "3:4", "3:2",
        "2:3"; default: the model's); `image`, a PNG or JPEG file; `api_key`, your own key. Returns
        one object per picture: image (a file), revised_prompt, cost_usd, cost_source."""
        try:
            options = ChatOptions(
                provider_id=checked_id("provider", provider, 64),
                api_key=api_key_value(api_key),
                pictures=picture_options(n, aspect_ratio),
                asked_through="api",
            )
            ask = PictureAsk(question(prompt, "prompt").strip(), edit=image is not None, model=checked_id("model", model))
            upload = uploaded_image(image)
        except InvalidOptions as exc:
            raise _error(exc.failure.message) from None
        answer = Answer()
        async for event in service.make_pictures(options, ask, upload, visitor_of(request, service.settings)):
            answer.apply(event)
        _raise_failure(answer)
        return made_pictures(answer)

    async def transcribe(
        audio: dict,
        provider: str | None = None,
        model: str | None = None,
        language: str | None = None,
        api_key: str | None = None,
        request: gr.Request = None,
    ) -> str:
        """Transcribe a recording (`audio`: a WAV, MP3, Ogg, Opus, FLAC or M4A file) and return
        its text. `provider`: "xai", "openai" or "groq" (default: the server's, or the first that
        transcribes); `model`: an OpenAI-compatible provider's transcription model (default: its
        own); `language`: "en", "fr"... (default: detected); `api_key`: your own key. The recording
        is not kept."""
        try:
            options = ChatOptions(
                provider_id=checked_id("provider", provider, 64), api_key=api_key_value(api_key), asked_through="api"
            )
            upload = uploaded_file(audio, "audio", "a WAV, MP3, Ogg, Opus, FLAC or M4A file (handle_file)")
            language = spoken_language(language)
            model = checked_id("model", model)
        except InvalidOptions as exc:
            if isinstance(audio, dict):  # (refused beside a bad argument: not kept either)
                await asyncio.to_thread(discard_recording, audio.get("path"), service.settings.upload_dir)
            raise _error(exc.failure.message) from None
        visitor = visitor_of(request, service.settings)
        heard = await service.transcribe(options, upload["path"], visitor, name=upload["name"], language=language, model=model)
        if type(heard) is Failure:
            raise _error(heard.message)
        return heard.text

    async def speak(
        text: str,
        provider: str | None = None,
        model: str | None = None,
        voice: str | None = None,
        format: str | None = "mp3",  # noqa: A002 (the argument's documented name)
        api_key: str | None = None,
        request: gr.Request = None,
    ) -> dict:
        """Read `text` aloud (Markdown, code and formulas are made speakable first, as in the page)
        and return the audio file. `provider`: "xai" or "openai" (default: the server's, or the first
        that reads); `model`: OpenAI's speech model (default: its own); `voice`: one of the
        provider's voices (xAI: eve, ara, rex, sal, leo; OpenAI: alloy, ash, coral, nova...);
        `format`: "mp3" or "wav"; `api_key`: your own key."""
        try:
            options = ChatOptions(
                provider_id=checked_id("provider", provider, 64), api_key=api_key_value(api_key), asked_through="api"
            )
            said = question(text, "text")
            ask = ReadAloud(
                said,
                voice=checked_id("voice", voice, 64),
                audio_format=stripped("format", format) or "mp3",
                language=said_language(said),
                model=checked_id("model", model),
                quick_start=False,
            )
        except InvalidOptions as exc:
            raise _error(exc.failure.message) from None
        parts: list[SpokenPiece] = []
        async for piece in service.read_aloud(options, ask, visitor_of(request, service.settings)):
            if type(piece) is Failure:
                raise _error(piece.message)
            parts.append(piece)
        audio = parts[0].audio
        joined = joined_audio([p.audio.audio for p in parts], audio.suffix)
        path = await asyncio.to_thread(service.spoken.keep, joined, audio.suffix)
        return {
            "path": str(path),
            "orig_name": "speech" + audio.suffix,
            "mime_type": audio.mime_type,
            "meta": {"_type": "gradio.FileData"},
        }

    shares = shares or SharesOnFirstUse(service.settings.history.votes_url)

    async def share_store() -> Any:
        if not service.settings.share_links:
            raise _error(words("page", "share.off"))
        return await shares.opened()

    async def share(
        messages: list[dict], title: str | None = None, system_prompt: str | None = None, request: gr.Request = None
    ) -> dict:
        """Share a conversation as a read-only page: `messages` ({role, content}, as /chat's history),
        an optional `title`, and a `system_prompt` to show with it. Returns {url, id, revoke_token}:
        keep the token, /unshare takes it."""
        store = await share_store()
        try:
            turns = plain_history(messages)
            title_given = optional_text("title", title) or ""
            prompt = optional_text("system_prompt", system_prompt)
        except InvalidOptions as exc:
            raise _error(exc.failure.message) from None
        if not any(t["role"] == "assistant" for t in turns):
            raise _error(words("page", "share.nothing"))
        snapshot = snapshot_of(turns, title=title_given, system_prompt=prompt, choices=ShareChoices(system_prompt=True))
        if snapshot_chars(snapshot) > MOST_SNAPSHOT_CHARS:
            raise _error(words("page", "share.too_large", {"limit": MOST_SNAPSHOT_CHARS}))
        visitor = service.records.visitor_hash(visitor_of(request, service.settings)) or ""
        owner = "api:" + visitor
        try:
            if await store.count(owner, visitor) >= service.settings.shares_per_person:
                raise _error(words("page", "share.too_many", {"count": service.settings.shares_per_person}))
            share_id, token = await store.create(owner, "", snapshot, visitor)
        except StoreError:
            raise _error(words("page", "share.unavailable")) from None
        return {"url": f"{page_root(request, service.settings)}/s/{share_id}", "id": share_id, "revoke_token": token}

    async def unshare(id: str, revoke_token: str, request: gr.Request = None) -> dict:  # noqa: A002 (the API's name)
        """End a share made by /share: its address answers 404 from now on."""
        store = await share_store()
        if not isinstance(id, str) or not isinstance(revoke_token, str) or not id or not revoke_token:
            raise _error("unshare takes the id and the revoke_token /share returned.")
        try:
            if not await store.revoke(id.strip(), token=revoke_token.strip()):
                raise _error(words("page", "share.not_yours"))
        except StoreError:
            raise _error(words("page", "share.unavailable")) from None
        return {"revoked": True, "id": id.strip()}

    async def leaderboard(preset: str | None = None) -> list[dict]:
        """Compare mode's leaderboard: models ranked by Bradley–Terry rating, with 95 % intervals
        and vote counts; `preset` keeps one kind of preset's votes ("letters", "science", "code"…)."""
        try:
            board = await ballots.board(preset_kind(stripped("preset", preset)))
        except InvalidOptions as exc:
            raise _error(exc.failure.message) from None
        except StoreError:
            raise _error(words("page", "leaderboard.unavailable")) from None
        return rows(board.standings)

    endpoints = {
        "chat": chat,
        "chat_details": chat_details,
        "compare": compare,
        "leaderboard": leaderboard,
        "image": image,
        "transcribe": transcribe,
        "speak": speak,
        "share": share,
        "unshare": unshare,
    }
    for name, function in endpoints.items():
        if arity(function) != API_ARITIES[name]:  # api_calls.py completes calls to this many values
            raise RuntimeError(f"API_ARITIES[{name!r}] is {API_ARITIES[name]}; /{name} takes {arity(function)}")
    limit = service.settings.concurrency_limit
    gr.api(chat, api_name="chat", concurrency_limit=limit)
    gr.api(chat_details, api_name="chat_details", concurrency_limit=limit)
    gr.api(compare, api_name="compare", concurrency_limit=limit)
    gr.api(leaderboard, api_name="leaderboard", concurrency_limit=1, concurrency_id="leaderboard")
    gr.api(image, api_name="image", concurrency_limit=limit)
    gr.api(transcribe, api_name="transcribe", concurrency_limit=limit)
    gr.api(speak, api_name="speak", concurrency_limit=limit)
    gr.api(share, api_name="share", concurrency_limit=limit)
    gr.api(unshare, api_name="unshare", concurrency_limit=limit)


API_ARITIES = {
    "chat": 18,
    "chat_details": 18,
    "compare": 13,
    "leaderboard": 1,
    "image": 7,
    "transcribe": 5,
    "speak": 6,
    "share": 3,
    "unshare": 2,
}
"""How many values each endpoint takes (register_api checks it against the functions)."""


def _with_steps(answer: Answer) -> str:
    """/chat's text: a line per tool call (as each stands), then the answer."""
    if not answer.steps:
        return answer.text
    lines = [
        step_line(kept_step(step)) if step.state in STEP_STATES else f"[Tool call {step.server}:{step.tool}: {step.state}]"
        for step in answer.steps
    ]
    return "\n".join(lines) + ("\n\n" + answer.text if answer.text else "")


def _turns(arguments: dict[str, Any]) -> list[dict[str, Any]]:
    """The earlier turns and the question, taken out of an endpoint's arguments (checked)."""
    return [*plain_history(arguments.pop("history")), {"role": "user", "content": question(arguments.pop("message"))}]


def uploaded_image(value: Any) -> dict | None:
    """/image's `image`: a file Gradio took in, as a file reference; None when not given."""
    return None if value is None else uploaded_file(value, "image", "a PNG or JPEG file (handle_file)")


def uploaded_file(value: Any, argument: str, expected: str) -> dict:
    """A file Gradio took in (its path in the upload folder, which its reader checks again), as a
    file reference."""
    path = value.get("path") if isinstance(value, dict) else None
    if not isinstance(path, str) or not path:
        raise InvalidOptions(Failure("bad_argument", {"argument": argument, "got": repr(value)[:80], "expected": expected}))
    return {"path": path, "name": str(value.get("orig_name") or path.rsplit("/", 1)[-1])[:200]}


def made_pictures(answer: Answer) -> list[dict]:
    """An answer's pictures as the API returns them: each a file (the caller's client downloads
    it), with its revised prompt and its share of the cost."""
    share = answer.cost_usd / len(answer.pictures) if answer.cost_usd is not None and answer.pictures else None
    return [
        {
            "image": {**file, "meta": {"_type": "gradio.FileData"}},
            "revised_prompt": picture.revised_prompt,
            "cost_usd": share,
            "cost_source": answer.usage.cost_source if answer.usage else None,
        }
        for picture, file in zip(answer.pictures, picture_files(answer.pictures), strict=True)
    ]


def compared_models(value: Any) -> list[str]:
    """/compare's `models`: a list of 1 to MAX_SIDES strings (each checked when it is asked)."""
    if not isinstance(value, (list, tuple)) or not value or len(value) > MAX_SIDES or not all(isinstance(v, str) for v in value):
        raise InvalidOptions(
            Failure(
                "bad_argument",
                {
                    "argument": "models",
                    "got": repr(value)[:80],
                    "expected": f'a list of 1 to {MAX_SIDES} "provider:model" strings',
                },
            )
        )
    return list(value)
