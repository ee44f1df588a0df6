import os

from django.core.management.base import BaseCommand, CommandError

from audit.models import AuditRecord
from audit.services import heads_file, missing_triggers, verify_chain, verify_published


class Command(BaseCommand):
    help = (
        "重新计算审计记录的哈希链（含密钥），对照已发布的链头，并检查只追加触发器是否都在。 / "
        "Recompute the audit hash chains with the key, check them against the published heads, and check "
        "that every append-only trigger is in place."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--chain", help="只检查这一条记录链 / check only this chain, e.g. community:12 or city"
        )
        parser.add_argument(
            "--heads", action="append", default=None,
            help="已发布链头的文件（heads 文件、其副本或安全日志），可重复 / a file of published heads (the heads "
                 "file, a copy of it, or the security log); repeatable. Default: AUDIT_HEADS_FILE if it exists",
        )

    def handle(self, *args, chain=None, heads=None, **options):
        problems = [str(p) for p in verify_chain(chain)]
        head_files = heads if heads is not None else [f for f in [heads_file()] if os.path.exists(f)]
        for path in head_files:
            if not os.path.exists(path):
                raise CommandError(f"链头文件不存在 / no such heads file: {path}")
            problems.extend(f"{p} ({path})" for p in verify_published(path, chain))
        if chain is None:
            problems.extend(f"触发器缺失或被停用 / trigger missing or disabled: {name}"
                            for name in missing_triggers())
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError(
                f"审计记录有 {len(problems)} 处问题 / audit trail has {len(problems)} problem(s)"
            )
        records = AuditRecord.objects.order_by()
        if chain is not None:
            records = records.filter(chain=chain)
        count = records.count()
        chains = records.values("chain").distinct().count()
        checked = f"; checked against {len(head_files)} heads file(s)" if head_files else ""
        self.stdout.write(self.style.SUCCESS(
            f"审计记录完整 / audit trail intact: {count} records in {chains} chains{checked}"
        ))
