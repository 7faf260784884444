"""What was used lately, within a budget of bytes: the least recently used goes first.

Shared by the attachment reader (files read, re-sent each turn) and the Responses path (encrypted
reasoning, sent back next turn). Safe from several threads.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

Value = TypeVar("Value")


class LRUCache(Generic[Value]):
    """Values by key, at most `budget` bytes in all (`size` says a value's); a value bigger than
    `largest` is not kept at all."""

    def __init__(self, budget: int, size: Callable[[Value], int], largest: int | None = None) -> None:
        self._values: OrderedDict[Hashable, Value] = OrderedDict()
        self._budget, self._size = budget, size
        self._largest = budget if largest is None else largest
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._values)

    def get(self, key: Hashable) -> Value | None:
        with self._lock:
            value = self._values.get(key)
            if value is not None:
                self._values.move_to_end(key)
            return value

    def pop(self, key: Hashable) -> None:
        """Forgets the value of `key`, if any."""
        with self._lock:
            if (old := self._values.pop(key, None)) is not None:
                self._bytes -= self._size(old)

    def put(self, key: Hashable, value: Value) -> None:
        size = self._size(value)
        if size > self._largest:
            return
        with self._lock:
            if (old := self._values.pop(key, None)) is not None:
                self._bytes -= self._size(old)
            self._values[key] = value
            self._bytes += size
            while self._bytes > self._budget and len(self._values) > 1:
                _, dropped = self._values.popitem(last=False)
                self._bytes -= self._size(dropped)
