"""Running a fake server in a thread of its own, for tests that drive a separate process
(`serve`) or call the fake from synchronous code. A fake that mixes this in has async `start()`
and `stop()` and sets `_loop` to its running loop in `start()`."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, Self, TypeVar

T = TypeVar("T")


class ThreadedFake:
    _loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> Any:
        raise NotImplementedError

    async def stop(self) -> None:
        raise NotImplementedError

    @classmethod
    @contextmanager
    def in_thread(cls, *args: Any, **options: Any) -> Iterator[Self]:
        """The fake on its own loop in a daemon thread; call its async helpers through
        `fake.run(...)`, or read its state directly."""
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name=f"fake-{cls.__name__}", daemon=True)
        thread.start()
        fake = cls(*args, **options)
        try:
            asyncio.run_coroutine_threadsafe(fake.start(), loop).result(10)
            yield fake
        finally:
            asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(10)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
            loop.close()

    def run(self, work: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """Run a coroutine on the fake's loop from another thread (see `in_thread`)."""
        if self._loop is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(timeout)
