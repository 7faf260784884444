"""One process of the shared-budget test (tests/test_budgets.py): a ChatService with the store's
budget ledger, asking 25 questions at once as 25 visitors; prints what became of them as JSON.

    python tests/support/budget_worker.py '<env as JSON>' <process number> [one-address]

With "one-address", the 25 visitors share one address (the limits count it as one visitor).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from causerie.answering.budgets import budget_day  # noqa: E402
from causerie.answering.limits import Visitor  # noqa: E402
from causerie.answering.options import ChatOptions  # noqa: E402
from causerie.answering.service import ChatService  # noqa: E402
from causerie.config.settings import load_settings  # noqa: E402
from causerie.events import Failure  # noqa: E402
from causerie.history.budget_ledger import shared_ledger  # noqa: E402

QUESTIONS = 25


async def main(env: dict, number: int, one_address: bool = False) -> dict:
    settings = load_settings(env)
    ledger = shared_ledger(settings)
    service = ChatService(settings, ledger=ledger)

    async def one(i: int) -> list:
        turns = [{"role": "user", "content": "Hi"}]
        visitor = Visitor(session=f"p{number}-{i}", ip="203.0.113.77" if one_address else None)
        return [e async for e in service.stream_answer(ChatOptions("openai", "gpt-4o-mini"), turns, visitor)]

    try:
        results = await asyncio.gather(*(one(i) for i in range(QUESTIONS)))
        await service.budgets.settled()
    finally:
        await service.aclose()
        if ledger is not None:
            await ledger.close()
    ends = [r[-1] for r in results]
    return {
        "finished": sum(type(e) is not Failure for e in ends),
        "refused": sum(type(e) is Failure and e.params.get("why") in ("budget_app", "rate") for e in ends),
        "other": [e.kind for e in ends if type(e) is Failure and e.params.get("why") not in ("budget_app", "rate")],
        "shared": ledger is not None,
        "day": budget_day(time.time(), settings.public.budget_reset_hour)[0],
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(json.loads(sys.argv[1]), int(sys.argv[2]), sys.argv[3:] == ["one-address"]))))
