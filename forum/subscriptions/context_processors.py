from .models import Notification


def notifications(request):
    """The bell's unread count on every page: one query, made only if a template asks."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def unread_notifications():
        return Notification.objects.filter(recipient=user).unread().count()

    return {"unread_notifications": unread_notifications}
