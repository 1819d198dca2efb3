"""Where reconnect plugs into the journey (called from IntegrationConfig.ready)."""


def reconnect_ready() -> None:
    from clinic import journey
    from clinic.models import Stage

    from . import emails  # noqa: F401  (the outbox handlers)
    from .selectors import reconnect_next_step
    from .services import plan_closed_guard

    journey.register_guard(Stage.INTEGRATE, Stage.RECONNECT, plan_closed_guard)
    journey.register_next_step(Stage.RECONNECT, reconnect_next_step)
