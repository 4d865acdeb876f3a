from django import forms
from django.utils.translation import gettext_lazy as _

from essays.models import Essay

from .models import ReasonCode, Restriction
from .services import PERMANENT


class ReportForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("What is wrong with this comment?"),
        choices=ReasonCode.choices,
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Anything moderators should know (needed for “Other”)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class DecisionForm(forms.Form):
    """A decision's two texts, never mixed: the public reason (the author and readers see
    it) and the private note (moderators only)."""

    reason = forms.CharField(
        label=_("Private note (moderators only)"),
        required=False,
        max_length=1000,
        widget=forms.TextInput(),
    )
    public_reason = forms.CharField(
        label=_("Public reason (the author is told)"),
        required=False,
        max_length=1000,
        widget=forms.TextInput(),
    )
    reason_code = forms.ChoiceField(
        label=_("Public reason"), choices=[("", "—")] + ReasonCode.choices, required=False
    )
    # The comment's status as the moderator saw it: a decision made meanwhile wins.
    seen_status = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput())


class RestrictForm(forms.Form):
    kind = forms.ChoiceField(label=_("Restriction"), choices=Restriction.Kind.choices)
    length = forms.ChoiceField(
        label=_("For how long (suspensions)"),
        choices=[
            ("1d", _("1 day")),
            ("7d", _("7 days")),
            ("30d", _("30 days")),
            (PERMANENT, _("Until lifted")),
        ],
    )
    reason = forms.CharField(
        label=_("Public reason (the author is told)"), max_length=1000, required=False
    )
    note = forms.CharField(
        label=_("Private note (moderators only)"), max_length=1000, required=False
    )


class LogFilterForm(forms.Form):
    moderator = forms.ModelChoiceField(
        label=_("Moderator"), queryset=None, required=False, empty_label=_("Anyone")
    )
    author = forms.CharField(label=_("Author (email or name)"), required=False, max_length=100)
    essay = forms.ModelChoiceField(
        label=_("Essay"), queryset=Essay.objects.all(), required=False, empty_label=_("Any")
    )

    def __init__(self, *args, moderators, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["moderator"].queryset = moderators
