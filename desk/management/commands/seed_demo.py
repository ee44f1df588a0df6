from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from approvals.demo import NOTICE_JUST_ENDED, seed_chain_examples
from approvals.workflow import TRANSITIONS
from disclosure.demo import seed_year_end_disclosures
from fundapp import clock
from fundapp.demo import DEMO_PASSWORD, demo_summary, seed_demo


class Command(BaseCommand):
    help = "Create the demo city (idempotent): subdistricts, communities, a person in every post, allocations."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="allow running with FUND_ENV=production")

    def handle(self, *args, force=False, **options):
        if settings.PRODUCTION and not force:
            raise CommandError("seed_demo creates demo logins; refusing in production without --force.")
        if clock.demo_as_of():
            self.stdout.write(self.style.WARNING(f"FUND_AS_OF: the demo runs as of {clock.today()}."))
        logins = seed_demo()
        examples, skipped = seed_chain_examples()
        disclosures = seed_year_end_disclosures()
        summary = demo_summary()
        self.stdout.write(self.style.SUCCESS(
            "Demo city ready: {subdistricts} subdistricts, {communities} communities, {posts} posts, "
            "{fund_years} fund years.".format(**summary)
        ))
        self.stdout.write(f"Example proposals added: {examples}"
                          + ("" if skipped else " (one in every state of the approval chain)."))
        if skipped:
            self.stdout.write(self.style.WARNING(
                "Not enough days since this year's allocation for: " + "、".join(skipped)
            ))
        if disclosures:
            self.stdout.write(f"Year-end disclosures posted today: {disclosures}")
        self.stdout.write("Notice period over, ready to finish today:")
        for code, title, _category, _budget, state in NOTICE_JUST_ENDED:
            step = TRANSITIONS["submit_for_review" if state == "notice" else "complete"].label
            self.stdout.write(f"  {title}  ({code}-secretary: {step})")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for username, role, scope in logins:
            self.stdout.write(f"  {username:<26} {role} · {scope}")
