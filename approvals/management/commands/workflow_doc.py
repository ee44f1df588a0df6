from django.core.management.base import BaseCommand

from approvals.workflow_doc import render_workflow_markdown


class Command(BaseCommand):
    help = "Print docs/workflow.md, generated from the transition table."

    def handle(self, *args, **options):
        self.stdout.write(render_workflow_markdown(), ending="")
