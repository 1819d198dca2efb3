from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo and scale data sets. They know every app (they fill every
    stage), so they live outside the core, which knows none."""

    name = "demo"
    verbose_name = "Demo data"
