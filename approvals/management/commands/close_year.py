from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError

from approvals.year_close import fund_year_close_preview, fund_years_close
from fundapp.amounts import format_yuan


class Command(BaseCommand):
    help = ("Close YEAR for every community (Art. 13): carry everything not yet paid (available + reserved) "
            "into the next year, dated 31 December / 1 January, and move every unfinished proposal there with "
            "its reservation; the closed year takes no more entries. Safe to run again: closed years are "
            "skipped, so nothing is carried twice.")

    def add_arguments(self, parser):
        parser.add_argument("year", type=int)

    def handle(self, *args, year, **options):
        preview = fund_year_close_preview(year=year, with_proposals=False)
        to_carry = sum((row.to_carry for row in preview), Decimal("0.00"))
        moving = sum(row.moving for row in preview)
        result = fund_years_close(year=year)
        self.stdout.write(f"{year}: closed {result['closed']}, already closed {result['already']}, "
                          f"failed {len(result['failed'])}; open before this run: {format_yuan(to_carry)} to carry "
                          f"and {moving} unfinished proposal(s) to move into {year + 1}")
        for code, error in result["failed"]:
            self.stderr.write(f"  {code}: {error}")
        if result["failed"]:
            raise CommandError("some communities were not closed; fix the cause and run the command again")
