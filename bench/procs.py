"""The processes the benchmark runs: starting an app on a free loopback port and waiting until it
answers, stopping it, and what it reads of them (Linux /proc)."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]

TICKS = os.sysconf("SC_CLK_TCK")


_given_ports: set[int] = set()


def free_port() -> int:
    """A loopback port free now, below the kernel's range of ephemeral ports, and not given before
    by this process. A port from that range (what binding port 0 gives) may be taken as the local
    port of an outgoing connection (the generator opens thousands, and other programs on the
    machine some) in the second or two before the app binds it: the app then exits with "Cannot
    find empty port", as a two-process run once did."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    for _ in range(200):
        port = random.randrange(max(1024, low - 12000), low)
        if port in _given_ports:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _given_ports.add(port)
        return port
    with socket.socket() as s:  # (a machine whose ports below the range are all taken)
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def memory_mb(pid: int, field: str = "VmRSS") -> float:
    """A process's resident memory now (VmRSS), or its peak so far (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


class App:
    """An app started with `command` in the repository, `env` added to a clean environment (no
    provider key or token from the caller's), on a free loopback port (or `port`). Its log (a
    line per answer) goes to a file: a pipe nobody reads fills up after a few hundred answers, and
    the app then waits on it forever. With `wait`, returns once the app answers (startup_s)."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], port: int | None = None, wait: bool = True) -> None:
        self.name = name
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        env = {
            **os.environ,
            **env,
            "GRADIO_SERVER_NAME": "127.0.0.1",
            "GRADIO_SERVER_PORT": str(self.port),
            "GRADIO_ANALYTICS_ENABLED": "False",
            "CAUSERIE_OPEN_BROWSER": "false",
            "CAUSERIE_ENV_FILE": "",
        }
        for key in [k for k in env if k.endswith(("_API_KEY", "_TOKEN"))]:
            env.pop(key)
        self.started = time.perf_counter()
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=self.log)
        self.startup_s = self.wait_ready() if wait else None

    def wait_ready(self) -> float:
        """Until the app answers 200 (seconds since it was started); raises, with the end of its
        log, if it exits first or takes more than a minute."""
        deadline = time.perf_counter() + 60
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"{self.name} exited: {self.log.read().decode()[-2000:]}")
            try:
                if httpx.get(self.url, timeout=0.5).status_code == 200:
                    return time.perf_counter() - self.started
            except httpx.HTTPError:
                pass
            time.sleep(0.02)
        raise RuntimeError(f"{self.name} did not start")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
