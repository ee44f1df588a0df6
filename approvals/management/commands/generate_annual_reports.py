from django.core.management.base import BaseCommand

from approvals.reports import annual_reports_generate
from fundapp import clock


class Command(BaseCommand):
    help = "Draft each community's annual report (Art. 16) for a year; drafts already submitted are kept."

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, default=None, help="default: this year")

    def handle(self, *args, year=None, **options):
        year = year or clock.today().year
        created = annual_reports_generate(year=year)
        self.stdout.write(self.style.SUCCESS(f"{year}: {created} new draft report(s); existing drafts refreshed."))
