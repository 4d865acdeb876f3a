from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OperationsConfig(AppConfig):
    """Running the site: the supervised task worker, its heartbeats, daily housekeeping."""

    name = "forum.operations"
    verbose_name = _("Operations")
