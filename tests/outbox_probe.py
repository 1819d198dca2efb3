"""A test-only outbox handler that a subprocess worker runs: it records its
delivery in the database (inside the row's transaction, as a real handler's
database side effects are) and can be made to hang, so a test can kill the
worker mid-send."""

import os
import time
from pathlib import Path

from clinic import outbox
from clinic.models import OutboxMessage

KIND = "test.probe"


@outbox.handler(KIND)
def probe(message) -> bool:
    hang_file = os.environ.get("PROBE_HANG_FILE")
    if hang_file and message.payload.get("hang"):
        Path(hang_file).write_text("hanging")
        time.sleep(600)  # killed here
    OutboxMessage.objects.create(kind="test.delivered", key=message.key, payload={})
    return True
