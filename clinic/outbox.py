"""The outbox: work that happens later (an e-mail, a reminder, a PDF to
build) is a row written in the same transaction as the action that causes it;
the beat-driven sweep claims due rows and runs their handlers.

A handler is registered for a `kind` with `@outbox.handler(kind)` and does
the work for one OutboxMessage. It returns False when the work is no longer
needed (the appointment was cancelled), which marks the row skipped rather
than sent. It runs inside the row's lock, so it must be quick and must not
call back into the sweep.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from .models import OutboxMessage

logger = logging.getLogger(__name__)

Handler = Callable[[OutboxMessage], bool | None]
_handlers: dict[str, Handler] = {}

MAX_ATTEMPTS = 8


def handler(kind: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        _handlers[kind] = func
        return func

    return register


def handlers() -> dict[str, Handler]:
    return _handlers


def _check_handled(kind: str) -> None:
    if kind not in _handlers:
        raise ValueError(f"No outbox handler is registered for {kind!r}.")


def outbox_enqueue(
    *, kind: str, key: str, payload: dict | None = None, due_at: datetime | None = None
) -> OutboxMessage:
    """Write a piece of later work in the caller's transaction. The same
    (kind, key) twice is one row: a double submit queues nothing twice."""
    _check_handled(kind)
    message, _created = OutboxMessage.objects.get_or_create(
        kind=kind, key=key, defaults={"payload": payload or {}, "due_at": due_at or timezone.now()}
    )
    return message


def outbox_enqueue_many(messages: list[dict]) -> None:
    """Several pieces of later work in one statement (each a dict of
    outbox_enqueue's arguments); a (kind, key) already queued stays as it is."""
    now = timezone.now()
    rows = []
    for message in messages:
        _check_handled(message["kind"])
        rows.append(
            OutboxMessage(
                kind=message["kind"],
                key=message["key"],
                payload=message.get("payload") or {},
                due_at=message.get("due_at") or now,
            )
        )
    OutboxMessage.objects.bulk_create(rows, ignore_conflicts=True)


def outbox_forget(*, kind: str, fields: Iterable[str], keys: Iterable[str] | None = None) -> int:
    """Drop `fields` from the payloads of the rows of `kind` with these keys
    (without keys: of every row of `kind` no longer pending, e.g. given up
    on): a secret a message carries only until it is sent (the token of a
    link it e-mails) is not kept at rest after. Called from a handler, the
    change commits with the row's own status, so a send that fails keeps it
    for the retry. Returns how many rows changed."""
    fields = set(fields)
    messages = OutboxMessage.objects.filter(kind=kind, payload__has_any_keys=sorted(fields))
    if keys is None:
        messages = messages.exclude(status=OutboxMessage.Status.PENDING)
    else:
        messages = messages.filter(key__in=list(keys))
    changed = 0
    for message in messages:
        kept = {name: value for name, value in message.payload.items() if name not in fields}
        if kept != message.payload:
            OutboxMessage.objects.filter(pk=message.pk).update(payload=kept)
            changed += 1
    return changed


def fan_out(message: OutboxMessage, *, kind: str, people: Iterable[int | None]) -> None:
    """From inside a handler: one row of `kind` per person to tell (a user
    id, or None for the clinic's own inbox), so one failed e-mail is retried
    alone and never re-sends the others. The rows commit with the handler's
    row, so a retry of the handler never queues them twice."""
    outbox_enqueue_many(
        [
            {
                "kind": kind,
                "key": f"{message.key}:{person or 'clinic'}",
                "payload": {**message.payload, "person": person},
            }
            for person in people
        ]
    )


@dataclass
class SweepResult:
    sent: int = 0
    skipped: int = 0
    retried: int = 0
    failed: int = 0


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


def outbox_sweep(*, limit: int = 1000, now: datetime | None = None) -> SweepResult:
    """Do the outbox work that is due, one row per transaction.

    Each row is locked (SKIP LOCKED) while its handler runs and marked done in
    the same transaction, so two sweeps running at once never take the same
    row, and a row whose worker died before the commit goes back to pending.
    """
    result = SweepResult()
    for _i in range(limit):
        moment = now or timezone.now()
        with transaction.atomic():
            message = (
                OutboxMessage.objects.select_for_update(skip_locked=True)
                .filter(status=OutboxMessage.Status.PENDING, due_at__lte=moment)
                .order_by("due_at", "pk")
                .first()
            )
            if message is None:
                break
            run = _handlers.get(message.kind)
            try:
                if run is None:
                    raise LookupError(f"no handler for {message.kind}")
                with transaction.atomic():
                    done = run(message)
            except Exception as exc:
                logger.exception("outbox %s %s failed", message.kind, message.key)
                message.attempts += 1
                message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                if message.attempts >= MAX_ATTEMPTS:
                    message.status = OutboxMessage.Status.FAILED
                    result.failed += 1
                else:
                    message.due_at = moment + _backoff(message.attempts)
                    result.retried += 1
            else:
                message.status = (
                    OutboxMessage.Status.SENT if done is not False else OutboxMessage.Status.SKIPPED
                )
                message.done_at = moment
                if done is False:
                    result.skipped += 1
                else:
                    result.sent += 1
            message.save(update_fields=["status", "attempts", "last_error", "due_at", "done_at"])
    return result
