from django.core.management.base import BaseCommand, CommandError

from audit.models import AuditRecord
from audit.services import verify_chain


class Command(BaseCommand):
    help = (
        "重新计算审计记录的哈希链，报告被改动、删除或断开的记录。 / "
        "Recompute the audit hash chains and report altered, deleted or unlinked records."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--chain", help="只检查这一条记录链 / check only this chain, e.g. community:12 or city"
        )

    def handle(self, *args, chain=None, **options):
        problems = verify_chain(chain)
        if problems:
            for problem in problems:
                self.stderr.write(str(problem))
            raise CommandError(
                f"审计记录有 {len(problems)} 处问题 / audit trail has {len(problems)} problem(s)"
            )
        records = AuditRecord.objects.order_by()
        if chain is not None:
            records = records.filter(chain=chain)
        count = records.count()
        chains = records.values("chain").distinct().count()
        self.stdout.write(self.style.SUCCESS(
            f"审计记录完整 / audit trail intact: {count} records in {chains} chains"
        ))
