"""Where the app's CPU goes when many people ask at once (how bench/NOTES.md was written):

    python bench/burst_profile.py [--users 100] [--window 0.7] [--top 25] [--turns 100]

Starts the paced server and Causerie as bench/run.py does, but with a profiler waiting inside the
app's event-loop thread (py-spy cannot keep up with the app's worker threads at this scale). After
a warm-up round it plays one burst of --users and profiles its first --window seconds (the app
times the window itself, from the moment the profiler is on), then
prints the time per package and the busiest functions. cProfile roughly doubles the cost of
Python calls, so read the shares, not the seconds. Loopback only, under a minute.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import functools
import os
import pstats
import signal
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


def serve_profiled(out: str, window: float) -> None:
    """Run app.py; SIGUSR1 starts cProfile in the event loop's thread, which stops it `window` seconds
    later and writes `out` (whole, or not at all).

    Both are scheduled by the one signal: with a second signal to stop, a slow search for the loop
    (the whole heap, on a busy machine) let the stop run first and write an empty profile."""
    import cProfile
    import gc
    import runpy

    profiler = cProfile.Profile()

    def running_loops():
        # (The app freezes what it holds once started, endpoints/responses.py, and gc.get_objects()
        # leaves frozen objects out: thawed for the search, frozen again after.)
        frozen = gc.get_freeze_count()
        if frozen:
            gc.unfreeze()
        try:
            return [o for o in gc.get_objects() if isinstance(o, asyncio.AbstractEventLoop) and o.is_running()]
        finally:
            if frozen:
                gc.freeze()

    def stop_and_dump():
        profiler.disable()
        profiler.dump_stats(out + ".part")
        os.replace(out + ".part", out)

    def start(loop: asyncio.AbstractEventLoop) -> None:
        profiler.enable()
        loop.call_later(window, stop_and_dump)

    def on_signal(*_):
        for loop in running_loops():
            loop.call_soon_threadsafe(start, loop)

    signal.signal(signal.SIGUSR1, on_signal)
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    sys.argv = ["app.py"]
    runpy.run_path(str(ROOT / "app.py"), run_name="__main__")


def package_of(filename: str) -> str:
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0]
    if str(ROOT) in filename:
        return "causerie (" + Path(filename).name + ")"
    return "python (" + Path(filename).name + ")" if filename != "~" else "python (built-in)"


def report(path: str, top: int) -> None:
    try:
        stats = pstats.Stats(path)
    except TypeError:  # pstats' word for a profile with no calls in it
        sys.exit("The profile is empty: the profiler was on, but no call was seen in the window.")
    by_package: collections.Counter[str] = collections.Counter()
    for (filename, _, _), (_, _, own, _, _) in stats.stats.items():
        by_package[package_of(filename)] += own
    total = sum(by_package.values())
    print(f"\nOwn time by package ({total:.3f} s profiled):")
    for package, own in by_package.most_common(top):
        print(f"  {own / total:6.1%}  {package}")
    print("\nBusiest functions, by time including what they call:")
    stats.sort_stats("cumulative").print_stats(top)


async def burst(args, out: str) -> None:
    sys.path.insert(0, str(BENCH))
    import httpx
    from procs import App
    from run import causerie_env

    from load import LIMITS, PAGE_VALUES, gradio_plan, gradio_user, run_users
    from paced_server import running

    with running() as paced_url:
        serve = [sys.executable, str(Path(__file__).resolve()), "--serve", out, str(args.window)]
        app = App("causerie", serve, causerie_env(paced_url))
        try:
            async with httpx.AsyncClient(limits=LIMITS, timeout=120) as http:
                plan = await gradio_plan(http, app.url, PAGE_VALUES)
                visitor = functools.partial(gradio_user, http, plan)
                if args.turns:  # a long chat: the page's chat holds that many turns when it asks
                    from scenarios import long_chat_user, long_history

                    visitor = long_chat_user(http, plan, long_history(args.turns - 1))
                await run_users("warm-up", 2, visitor)
                pid = app.process.pid
                run = await run_users("Causerie", args.users, visitor, on_go=lambda: os.kill(pid, signal.SIGUSR1))
            deadline = time.monotonic() + 10 + args.window
            while not os.path.exists(out) and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
        finally:
            app.stop()
    summary = run.summary()
    print(
        f"{args.users} users: TTFT p50 {summary['ttft_p50']:.3f} s, tokens {summary['tokens']}, errors {summary['error_count']}"
        " (the profiler slows the app: these are not benchmark numbers)"
    )


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        serve_profiled(sys.argv[2], float(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--window", type=float, default=0.7, help="seconds of the burst to profile")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--turns", type=int, default=0, help="earlier turns in each chat (a long chat)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "burst.pstat")
        asyncio.run(burst(args, out))
        if not os.path.exists(out):
            sys.exit("The app wrote no profile.")
        report(out, args.top)


if __name__ == "__main__":
    main()
