from batches.commands import BatchCommand


class Command(BatchCommand):
    help = ("Build each community's year-end disclosure (Art. 15): the public page and the A4 poster PDF, "
            "posted for 5 working days; one batch item per community (progress at /batches/). Safe to repeat: "
            "one disclosure per community and year, the PDF regenerated only when the figures changed.")
    kind = "disclosures"
    what = "Year-end disclosures"
