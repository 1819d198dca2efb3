"""The race the concurrency tests run: each attempt in a thread of its own,
with a database connection of its own, all released at the same moment."""

import contextlib
import threading
from collections.abc import Callable, Sequence
from datetime import datetime

import time_machine
from django.db import connection
from django.utils import translation


def race(
    attempts: Sequence[Callable],
    *,
    refusal: type[Exception],
    at: datetime | None = None,
) -> dict[str, list]:
    """What became of each attempt: "done" (what it returned), "refused"
    (the service's sentence, an instance of `refusal`) or "crashed" (anything
    else, which is what a test looks for). With `at`, the clock stands still
    there for every thread."""
    assert connection.vendor == "postgresql"
    barrier = threading.Barrier(len(attempts))
    outcomes: dict[str, list] = {"done": [], "refused": [], "crashed": []}
    lock = threading.Lock()

    def run(attempt):
        translation.activate("en")
        try:
            barrier.wait(timeout=30)
            result = attempt()
            with lock:
                outcomes["done"].append(result)
        except refusal as exc:
            with lock:
                outcomes["refused"].append(str(exc))
        except Exception as exc:  # noqa: BLE001  (a crash is what the test looks for)
            with lock:
                outcomes["crashed"].append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(a,)) for a in attempts]
    clock = time_machine.travel(at, tick=False) if at else contextlib.nullcontext()
    with clock:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    return outcomes
