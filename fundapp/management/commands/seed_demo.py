from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from approvals.demo import seed_chain_examples
from fundapp.demo import DEMO_PASSWORD, demo_summary, seed_demo


class Command(BaseCommand):
    help = "Create the demo city (idempotent): subdistricts, communities, a person in every post, allocations."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="allow running with FUND_ENV=production")

    def handle(self, *args, force=False, **options):
        if settings.PRODUCTION and not force:
            raise CommandError("seed_demo creates demo logins; refusing in production without --force.")
        logins = seed_demo()
        examples = seed_chain_examples()
        summary = demo_summary()
        self.stdout.write(self.style.SUCCESS(
            "Demo city ready: {subdistricts} subdistricts, {communities} communities, {posts} posts, "
            "{fund_years} fund years.".format(**summary)
        ))
        self.stdout.write(f"Example proposals added: {examples} (one in every state of the approval chain).")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for username, role, scope in logins:
            self.stdout.write(f"  {username:<26} {role} · {scope}")
