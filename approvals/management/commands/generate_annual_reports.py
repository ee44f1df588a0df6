from batches.commands import BatchCommand


class Command(BatchCommand):
    help = ("Draft each community's annual report (Art. 16) for a year, one batch item per community "
            "(progress at /batches/); reports already submitted are kept, drafts are refreshed. Safe to repeat.")
    kind = "annual_reports"
    what = "Annual reports"
