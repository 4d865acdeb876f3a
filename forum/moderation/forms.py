from django import forms
from django.utils.translation import gettext_lazy as _

from essays.models import Essay

from .models import Decision, ReasonCode, Restriction, TrustLevel, WordRule
from .reads import SITE_RULES
from .services import AUTOMATIC_LEVEL, PERMANENT


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


class LevelForm(forms.Form):
    """A moderator sets an author's trust level, or gives it back to the ladder."""

    level = forms.ChoiceField(
        label=_("Trust level"),
        choices=[(AUTOMATIC_LEVEL, _("Automatic (the ladder decides)")), *TrustLevel.choices],
    )
    reason = forms.CharField(
        label=_("Private note (moderators only)"), max_length=1000, required=False
    )


class LogFilterForm(forms.Form):
    # Named "moderator" since the log was first filtered: links to it keep working.
    moderator = forms.ChoiceField(label=_("Decided by"), required=False)
    action = forms.ChoiceField(
        label=_("Action"), required=False, choices=[("", _("Any"))] + Decision.Action.choices
    )
    author = forms.CharField(label=_("Author (email or name)"), required=False, max_length=100)
    essay = forms.ModelChoiceField(
        label=_("Essay"), queryset=Essay.objects.all(), required=False, empty_label=_("Any")
    )
    since = forms.DateField(
        label=_("From (YYYY-MM-DD)"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To (YYYY-MM-DD)"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, moderators, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["moderator"].choices = [
            ("", _("Anyone")),
            (SITE_RULES, _("The site’s rules")),
            *((str(m.pk), str(m)) for m in moderators),
        ]

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            raise forms.ValidationError(_("The first date comes after the second."))
        return data


class WordRuleForm(forms.Form):
    word = forms.CharField(label=_("Word or phrase"), max_length=100)
    kind = forms.ChoiceField(label=_("List"), choices=WordRule.Kind.choices)
    reason = forms.CharField(
        label=_("Private note (moderators only)"), max_length=1000, required=False
    )
