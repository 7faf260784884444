"""The benchmark's parts the tests use (bench/ is scripts, not a package: its modules import one
another by bare name, so bench/ goes on sys.path, here and nowhere else)."""

from __future__ import annotations

import sys

from support.apps import ROOT

BENCH = ROOT / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

from cluster import Cluster, at_once, browsers, nginx_binary, page_plan  # noqa: E402
from load import direct_user, run_users  # noqa: E402
from paced_server import running  # noqa: E402

__all__ = ["BENCH", "Cluster", "at_once", "browsers", "direct_user", "nginx_binary", "page_plan", "run_users", "running"]
