from django.apps import AppConfig


class DeskConfig(AppConfig):
    """The pages people use across the apps: home and work queue, ledgers, the community record, the finance
    pages and their exports, the template tags that read the chain, the demo and scale seeds. The top floor:
    it may import every app below it and none imports it (docs/architecture.md, .importlinter)."""
    name = "desk"
