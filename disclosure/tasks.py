"""Scheduled work of the year-end disclosure (Art. 15)."""
from celery import shared_task


@shared_task
def generate_this_years_disclosures():
    """Beat, 10 December 06:00: start the disclosures batch for every community; returns the run's id."""
    from batches.services import batch_start
    from fundapp import clock

    return batch_start("disclosures", clock.today().year).pk
