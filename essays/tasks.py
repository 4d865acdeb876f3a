"""Background work of the essays app: publishing revisions too big for a web request."""

from django_tasks import task

from . import services


@task()
def publish_revision(job_id: int) -> str | None:
    """Publish the revision a PublicationJob holds; its row says how it went."""
    job = services.publication_run(job_id=job_id)
    return job.status if job else None
