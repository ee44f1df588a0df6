from django.core.management.base import BaseCommand, CommandError

from fundapp.services.money import fund_years_close


class Command(BaseCommand):
    help = ("Close YEAR for every community (Art. 13): carry unspent, unreserved money into the next year. "
            "Safe to run again: closed years are skipped, so nothing is carried twice.")

    def add_arguments(self, parser):
        parser.add_argument("year", type=int)

    def handle(self, *args, year, **options):
        result = fund_years_close(year=year)
        self.stdout.write(f"{year}: closed {result['closed']}, already closed {result['already']}, "
                          f"failed {len(result['failed'])}")
        for code, error in result["failed"]:
            self.stderr.write(f"  {code}: {error}")
        if result["failed"]:
            raise CommandError("some communities were not closed; fix the cause and run the command again")
