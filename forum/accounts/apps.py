from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "forum.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        # allauth confirms, adds and removes addresses in its own views: its signals are
        # where we hear of it. A reader's pages say whether they may post yet, which depends
        # on a confirmed address (forum/discussion/readers.py).
        from allauth.account import signals

        from .services import on_email_address_changed

        for signal in (
            signals.email_confirmed,
            signals.email_added,
            signals.email_removed,
            signals.email_changed,
        ):
            signal.connect(on_email_address_changed, dispatch_uid=f"accounts-{id(signal)}")
