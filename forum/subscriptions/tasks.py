import logging
from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from . import services

logger = logging.getLogger(__name__)

EMAIL_ATTEMPTS = 5


@task()
def fan_out_comment(comment_id: int) -> int:
    return services.fan_out(comment_id)


@task()
def send_notification_email(user_id: int, attempt: int = 1) -> int:
    """Send a reader's pending notifications; on failure try again later, with backoff.

    Nothing is lost after the last attempt either: the notifications stay unsent and the
    next email to that reader carries them."""
    try:
        return services.send_pending_email(user_id)
    except Exception:
        if attempt >= EMAIL_ATTEMPTS:
            logger.exception(
                "Email to user %s failed %s times; giving up for now.", user_id, attempt
            )
            raise
        delay = timedelta(minutes=2**attempt)
        logger.warning(
            "Email to user %s failed (attempt %s); retrying in %s.", user_id, attempt, delay
        )
        send_notification_email.using(run_after=timezone.now() + delay).enqueue(
            user_id, attempt + 1
        )
        raise
