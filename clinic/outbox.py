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


def enqueue_from_handler(*, kind: str, key: str, payload: dict) -> None:
    """Queue follow-up work from inside a handler (a fan-out): the new rows
    commit with the handler's row, so a retry never queues them twice."""
    from .services import outbox_enqueue

    outbox_enqueue(kind=kind, key=key, payload=payload)
