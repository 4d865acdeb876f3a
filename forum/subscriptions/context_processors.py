from .models import Notification


def notifications(request):
    """The bell's unread count on every page: one query, made only if a template asks (none
    when the reader's kept facts gave it: unread_count_prime)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    primed = getattr(request, "_unread_notifications", None)
    if primed is not None:
        return {"unread_notifications": primed}

    def unread_notifications():
        return unread_count(user)

    return {"unread_notifications": unread_notifications}


def unread_count(user) -> int:
    return Notification.objects.filter(recipient=user).unread().count()


def unread_count_prime(request, count: int) -> None:
    request._unread_notifications = count
