"""A fake picture provider on loopback, in xAI's shape or OpenAI's, strict as their documentation.

- xAI (`shape="xai"`): `POST /v1/images/generations` and `/v1/images/edits`, both JSON, taking only
  `model, prompt, n, response_format, aspect_ratio, resolution` (an edit also `image: {url: <data
  URI>, type: "image_url"}`); any other field is refused with 422 as xAI does ("Argument not
  supported"). The answer gives picture URLs, each served ONCE (then 404, as an expired address),
  and the cost in `usage.cost_in_usd_ticks`.
- OpenAI (`shape="openai"`): JSON generations taking `model, prompt, n, size, quality, background,
  output_format, moderation, user`; multipart edits with the picture as the `image` file; answers
  `b64_json`.

Every request is recorded (path, headers, JSON body or form fields) for the tests to read.
"""

from __future__ import annotations

import base64
import io
import json
import secrets
import time
from collections import deque
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .scripted_server import LoopbackServer

XAI_FIELDS = {"model", "prompt", "n", "response_format", "aspect_ratio", "resolution"}
XAI_RATIOS = {"1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3", "2:1", "1:2", "19.5:9", "9:19.5", "20:9", "9:20", "auto"}
OPENAI_FIELDS = {"model", "prompt", "n", "size", "quality", "background", "output_format", "moderation", "user"}
OPENAI_SIZES = {"1024x1024", "1536x1024", "1024x1536", "auto"}
TICKS_PER_PICTURE = 200_000_000  # $0.02, Grok Imagine's price


def png(width: int = 64, height: int = 48, colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "PNG")
    return buffer.getvalue()


class PictureServer(LoopbackServer):
    def __init__(self, shape: str = "xai", host: str = "127.0.0.1") -> None:
        self.shape = shape
        self.requests: list[dict[str, Any]] = []
        self.errors: deque[tuple[int, Any]] = deque()
        """Replies to give instead of pictures, in order: (status, JSON payload)."""
        self.picture = png()
        self.content_type = "image/png"
        self.revised_prompt = "A red square, flat colour"
        self.report_cost = True
        self.delay_s = 0.0
        self.url_base: str | None = None
        """Where the answer says the pictures are (default: this server)."""
        self.served: dict[str, int] = {}
        self._files: dict[str, bytes] = {}
        self.serve(
            [
                Route("/v1/images/generations", self._generate, methods=["POST"]),
                Route("/v1/images/edits", self._edit, methods=["POST"]),
                Route("/files/{name}", self._file, methods=["GET"]),
                Route("/v1/models", self._models, methods=["GET"]),
                Route("/v1/language-models", self._models, methods=["GET"]),
            ],
            host,
        )

    def reset(self, shape: str | None = None) -> None:
        self.shape = shape or self.shape
        self.requests.clear()
        self.errors.clear()
        self.picture, self.content_type = png(), "image/png"
        self.revised_prompt = "A red square, flat colour"
        self.report_cost, self.delay_s, self.url_base = True, 0.0, None
        self.served.clear()

    # -- handlers --

    async def _models(self, request: Request) -> Response:
        """Text models only, as xAI's /language-models lists them (its picture models are apart)."""
        return JSONResponse({"object": "list", "data": [{"id": "grok-4.3"}], "models": [{"id": "grok-4.3"}]})

    async def _generate(self, request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return self._refuse(400, "The body must be JSON.")
        self.requests.append({"path": request.url.path, "headers": dict(request.headers), "body": body})
        if not isinstance(body, dict):
            return self._refuse(400, "The body must be a JSON object.")
        if "image" in body:
            return self._refuse(422, "Argument not supported on generations: image")
        return await self._answer(body)

    async def _edit(self, request: Request) -> Response:
        if self.shape == "openai":
            form = await request.form()
            upload = form.get("image")
            fields = {name: value for name, value in form.items() if name != "image"}
            record = {"path": request.url.path, "headers": dict(request.headers), "form": fields}
            if upload is not None and hasattr(upload, "read"):
                record["image"] = {"bytes": await upload.read(), "content_type": upload.content_type, "filename": upload.filename}
            self.requests.append(record)
            if "image" not in record:
                return self._refuse(400, "image is required as a file (multipart/form-data)")
            return await self._answer(dict(fields))
        try:
            body = await request.json()
        except ValueError:
            self.requests.append({"path": request.url.path, "headers": dict(request.headers), "body": None})
            return self._refuse(400, "xAI edits take JSON, not a form.")
        self.requests.append({"path": request.url.path, "headers": dict(request.headers), "body": body})
        image = body.get("image") if isinstance(body, dict) else None
        if not isinstance(image, dict) or set(image) != {"url", "type"} or image.get("type") != "image_url":
            return self._refuse(422, "image must be {url, type: image_url}")
        url = image.get("url")
        if not isinstance(url, str) or not url.startswith(("data:image/png;base64,", "data:image/jpeg;base64,")):
            return self._refuse(422, "image.url must be a data URI of a PNG or JPEG")
        base64.b64decode(url.partition(",")[2], validate=True)
        return await self._answer({k: v for k, v in body.items() if k != "image"})

    async def _answer(self, body: dict) -> Response:
        allowed = XAI_FIELDS if self.shape == "xai" else OPENAI_FIELDS
        if unknown := sorted(set(body) - allowed):
            return self._refuse(422 if self.shape == "xai" else 400, f"Argument not supported: {unknown[0]}")
        if not isinstance(body.get("model"), str) or not isinstance(body.get("prompt"), str) or not body["prompt"]:
            return self._refuse(400, "model and prompt are required")
        count = int(body.get("n", 1))
        if self.shape == "xai" and (
            body.get("aspect_ratio", "1:1") not in XAI_RATIOS or body.get("response_format") not in ("url", "b64_json", None)
        ):
            return self._refuse(422, "bad aspect_ratio or response_format")
        if self.shape == "openai" and body.get("size", "auto") not in OPENAI_SIZES:
            return self._refuse(400, "Invalid size")
        if self.errors:
            status, payload = self.errors.popleft()
            return JSONResponse(payload, status_code=status)
        if self.delay_s:
            import asyncio

            await asyncio.sleep(self.delay_s)
        data = []
        for _ in range(count):
            if self.shape == "openai" or body.get("response_format") == "b64_json":
                item: dict[str, Any] = {"b64_json": base64.b64encode(self.picture).decode()}
            else:
                name = secrets.token_hex(8) + ".png"
                self._files[name] = self.picture
                item = {"url": f"{self.url_base or self.origin}/files/{name}"}
            if self.revised_prompt and self.shape == "xai":
                item["revised_prompt"] = self.revised_prompt
            data.append(item)
        answer: dict[str, Any] = {"created": int(time.time()), "data": data}
        if self.shape == "xai" and self.report_cost:
            answer["usage"] = {"cost_in_usd_ticks": TICKS_PER_PICTURE * count}
        elif self.shape == "openai":
            answer["usage"] = {"input_tokens": 20, "output_tokens": 4160 * count, "total_tokens": 20 + 4160 * count}
        return JSONResponse(answer)

    async def _file(self, request: Request) -> Response:
        name = request.path_params["name"]
        self.served[name] = self.served.get(name, 0) + 1
        data = self._files.pop(name, None)  # served once: the address has expired after
        if data is None:
            return JSONResponse({"error": "expired"}, status_code=404)
        return Response(data, media_type=self.content_type)

    def _refuse(self, status: int, message: str) -> Response:
        if self.shape == "xai":
            return JSONResponse({"code": "Client specified an invalid argument", "error": message}, status_code=status)
        return JSONResponse({"error": {"message": message, "type": "invalid_request_error"}}, status_code=status)


def picture_requests(server: PictureServer) -> list[dict]:
    return [r for r in server.requests if r["path"].startswith("/v1/images/")]


def as_json(record: dict) -> str:
    return json.dumps(record.get("body"))
