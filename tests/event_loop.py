"""Run a coroutine to completion from a plain (synchronous) test."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

Result = TypeVar("Result")


def run_coroutine(coroutine: Coroutine[Any, Any, Result]) -> Result:
    """Run `coroutine` on a fresh event loop in its own thread and return its result.

    Playwright's sync API keeps an event loop running in the main thread for as long
    as its browser fixture lives, so `asyncio.run()` there fails once a browser test
    has run earlier in the same pytest process. A separate thread has no running loop.
    """
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = asyncio.run(coroutine)
        except BaseException as error:  # re-raised in the calling thread below
            outcome["error"] = error

    worker = threading.Thread(target=run, name="test-event-loop")
    worker.start()
    worker.join()

    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
