"""Display names: line breaks, direction overrides and invisible characters are refused on every
path that stores a name, and names stored before that are shown cleaned."""

import pytest
from django.core.exceptions import ValidationError
from django.test import RequestFactory

from forum.accounts.adapter import AccountAdapter
from forum.accounts.forms import SignupForm
from forum.accounts.models import User
from forum.accounts.names import clean_display_name, name_for_display
from forum.accounts.services import user_set_display_name
from forum.discussion import services as discussion

CONTROLS = ["Rea\r\nDer", "Rea\nDer", "Rea\rDer", "Rea\tDer", "Rea\x00Der", "Rea\x1bDer"]
SEPARATORS = ["Rea\u2028Der", "Rea\u2029Der"]
BIDI = [f"Rea{char}Der" for char in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"]
MARKS = ["Rea\u200eDer", "Rea\u200fDer", "Rea\u061cDer"]
INVISIBLE = [
    "Rea\u200bDer",  # zero-width space
    "Rea\u2060Der",  # word joiner
    "Rea\ufeffDer",  # zero-width no-break space
    "Rea\u00adDer",  # soft hyphen
    "Rea\U000e0041Der",  # tag character
    "Rea\u3164Der",  # Hangul filler
    "Rea\u115fDer",
    "Rea\u1160Der",
    "Rea\uffa0Der",
    "Rea\u2800Der",  # braille blank
]
NOTHING_BUT_INVISIBLE = ["\u3164", "\u115f\u1160", "\uffa0 \uffa0", "\u2800", "\u200d", "\u0301"]
REFUSED = CONTROLS + SEPARATORS + BIDI + MARKS + INVISIBLE + NOTHING_BUT_INVISIBLE


@pytest.mark.parametrize("name", REFUSED)
def test_clean_display_name_refuses_controls_direction_and_invisible_characters(name):
    with pytest.raises(ValidationError):
        clean_display_name(name)


@pytest.mark.parametrize(
    "name, message",
    [
        ("Rea\r\nDer", "line breaks"),
        ("Rea\u202eDer", "direction of text"),
        ("Rea\u200bDer", "invisible characters"),
        ("\u3164", "invisible characters"),
        ("\u0301", "at least one visible"),
        ("   ", "Choose a name"),
    ],
)
def test_each_refusal_says_what_is_wrong(name, message):
    with pytest.raises(ValidationError) as refused:
        clean_display_name(name)
    assert message in refused.value.messages[0]


@pytest.mark.parametrize(
    "name, cleaned",
    [
        ("  Rea   Der  ", "Rea Der"),
        ("Rea\u00a0\u00a0Der", "Rea Der"),  # no-break spaces are whitespace too
        ("Rea\u3000Der", "Rea Der"),  # ideographic space
        ("Zoë Ōkuma", "Zoë Ōkuma"),
        ("מרים כהן", "מרים כהן"),  # right-to-left script, no controls
        ("می\u200cخواهم", "می\u200cخواهم"),  # Persian needs the zero-width non-joiner
        ("Ada \U0001f469\u200d\U0001f4bb", "Ada \U0001f469\u200d\U0001f4bb"),  # emoji with ZWJ
        ("李小龍", "李小龍"),
        ("한국", "한국"),
    ],
)
def test_clean_display_name_keeps_real_names_and_collapses_whitespace(name, cleaned):
    assert clean_display_name(name) == cleaned


def sign_up(client, display_name):
    return client.post(
        "/accounts/signup/",
        {
            "email": "newcomer@example.org",
            "display_name": display_name,
            "password1": "correct horse battery staple",
            "password2": "correct horse battery staple",
        },
    )


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["Rea\r\nDer", "Rea\u202eDer", "Rea\u200bDer", "\u3164"])
def test_sign_up_refuses_a_bad_name_and_creates_no_account(client, name):
    response = sign_up(client, name)
    assert response.status_code == 200
    assert not User.objects.filter(email="newcomer@example.org").exists()


@pytest.mark.django_db
def test_sign_up_stores_the_name_with_whitespace_collapsed(client):
    assert sign_up(client, "  New    Comer ").status_code == 302
    assert User.objects.get(email="newcomer@example.org").display_name == "New Comer"


@pytest.mark.django_db
def test_the_sign_up_adapter_refuses_a_name_the_form_did_not_check(rf: RequestFactory):
    form = SignupForm(data={})
    form.cleaned_data = {
        "email": "newcomer@example.org",
        "display_name": "Rea\r\nDer",
        "password1": "correct horse battery staple",
    }
    with pytest.raises(ValidationError):
        AccountAdapter(rf.get("/")).save_user(rf.get("/"), User(), form, commit=False)


@pytest.mark.parametrize("name", ["Rea\r\nDer", "Rea\u202eDer", "Rea\u200bDer", "\u2800"])
def test_settings_refuse_a_bad_name_and_keep_the_old_one(reader_client, user, name):
    response = reader_client.post("/accounts/settings/", {"display_name": name})
    assert response.status_code == 400
    user.refresh_from_db()
    assert user.display_name == "Rea Der"


@pytest.mark.parametrize("name", ["Rea\r\nDer", "Rea\u2066Der", "Rea\u2060Der", "\uffa0"])
def test_the_service_refuses_a_bad_name_and_stores_nothing(user, name):
    with pytest.raises(ValidationError):
        user_set_display_name(user=user, display_name=name)
    user.refresh_from_db()
    assert user.display_name == "Rea Der"


def test_the_service_collapses_whitespace(user):
    user_set_display_name(user=user, display_name=" Rea \u00a0 Der ")
    user.refresh_from_db()
    assert user.display_name == "Rea Der"


def test_the_model_refuses_a_bad_name_on_full_clean(user):
    user.display_name = "Rea\u202eDer"
    with pytest.raises(ValidationError) as refused:
        user.full_clean()
    assert "display_name" in refused.value.message_dict


@pytest.mark.parametrize(
    "stored, shown",
    [
        ("Rea\r\nDer", "Rea Der"),
        ("Rea\u202eDer", "ReaDer"),
        ("\u200fRea  Der\u200b", "Rea Der"),
        ("Rea\u2028Der", "Rea Der"),
        ("می\u200cخواهم", "می\u200cخواهم"),
    ],
)
def test_a_name_stored_before_the_rules_is_shown_cleaned(user, stored, shown):
    User.objects.filter(pk=user.pk).update(display_name=stored)
    user.refresh_from_db()
    assert str(user) == shown
    assert user.get_full_name() == shown
    assert name_for_display(stored) == shown


@pytest.mark.parametrize("stored", ["\u3164", "\u200b\u202e", "", "\r\n"])
def test_a_stored_name_with_nothing_visible_is_shown_as_unnamed_never_as_the_email(user, stored):
    User.objects.filter(pk=user.pk).update(display_name=stored)
    user.refresh_from_db()
    assert str(user) == "An unnamed reader"
    assert user.email not in str(user)


def test_comments_by_a_member_with_an_old_bad_name_show_it_cleaned(user, make_essay, client):
    User.objects.filter(pk=user.pk).update(display_name="Rea\r\n\u202eDer")
    user.refresh_from_db()
    essay = make_essay("One.")
    comment = discussion.comment_post(author=user, essay=essay, body="Words.")
    assert comment.author_display == "Rea Der"
    profile = client.get(f"/members/{user.pk}/").content.decode()
    assert "\u202e" not in profile and "Rea Der" in profile


@pytest.mark.parametrize(
    "name", ["Mod\u034f One", "Mod One\ufe0f", "Mod\u17b4 One", "Mod\u180b One"]
)
def test_invisible_marks_are_refused_in_names_as_in_comments(name):
    with pytest.raises(ValidationError, match="invisible"):
        clean_display_name(name)
