"""The registry of outbox handlers: `kind` -> function(message) -> bool.

A handler does the work for one OutboxMessage (send the e-mail, build the
PDF). It returns False when the work is no longer needed (the appointment was
cancelled), which marks the row skipped rather than sent. It runs inside the
row's lock, so it must be quick and must not call back into the outbox sweep.
"""

from collections.abc import Callable

_handlers: dict[str, Callable] = {}


def handler(kind: str):
    def register(func: Callable) -> Callable:
        _handlers[kind] = func
        return func

    return register


def handlers() -> dict[str, Callable]:
    return _handlers
