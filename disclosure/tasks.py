"""Scheduled work of the year-end disclosure (Art. 15)."""
from celery import shared_task

# Imported with the tasks, so a prefork worker loads WeasyPrint (about a second) once in its main process,
# before it forks the pool, instead of in each pool process on its first poster.
import fundapp.pdf  # noqa: F401


@shared_task
def generate_this_years_disclosures():
    """Beat, 10 December 06:00: start the disclosures batch for every community; returns the run's id."""
    from batches.services import batch_start
    from fundapp import clock

    return batch_start("disclosures", clock.today().year).pk


@shared_task
def refresh_disclosure(community_id, year):
    """Bring one community's disclosure up to date and render its poster again if it is missing (after a
    calendar change moved its last day, disclosure.derived_dates clears the poster's checksum)."""
    from .services import disclosure_generate

    disclosure_generate(community_id, year)
