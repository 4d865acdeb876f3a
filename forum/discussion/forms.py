from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .quotes import QUOTE_CONTEXT_SUBMITTED, QUOTE_MAX_LENGTH

# Where a reader's unsent comments are kept in their session (a login, say, came between),
# by the place they were written for.
DRAFTS_SESSION_KEY = "comment_drafts"


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Your comment"),
        # The service enforces the limit with its own message; the widget only helps.
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": settings.COMMENT_MAX_LENGTH}),
        strip=False,
        required=False,
        help_text=_(
            "Markdown: *emphasis*, **strong**, [links](https://…), > quotes, lists, `code`. "
            "No images or headings."
        ),
    )

    quote = forms.CharField(
        label=_("Quote (optional)"),
        required=False,
        max_length=QUOTE_MAX_LENGTH,
        help_text=_(
            "The exact words of the paragraph you are answering; they are shown above your comment."
        ),
    )
    # Context around a passage chosen by selecting it (filled in by the page's script).
    quote_prefix = forms.CharField(
        required=False, max_length=QUOTE_CONTEXT_SUBMITTED, widget=forms.HiddenInput
    )
    quote_suffix = forms.CharField(
        required=False, max_length=QUOTE_CONTEXT_SUBMITTED, widget=forms.HiddenInput
    )

    def __init__(self, *args, field_id: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        if field_id:
            # Several forms can share a page; each textarea needs its own id for its label.
            self.fields["body"].widget.attrs["id"] = field_id
