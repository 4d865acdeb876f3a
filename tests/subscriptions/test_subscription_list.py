"""/subscriptions/: each followed thread is told apart from the others by where it is and
how it begins, and leads to the thread itself."""

import re

from forum.discussion.models import Comment
from forum.subscriptions.services import subscription_set
from tests.conftest import add_comment


def rows(page: str) -> list[str]:
    listed = page.split('<ul class="subscription-list">')[1].split("</ul>")[0]
    texts = [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in listed.split("<li>")[1:]]
    return [text.replace(" ,", ",") for text in texts]


def test_threads_by_one_author_are_told_apart_and_lead_to_themselves(client, essay, alice, bob):
    paragraphs = list(essay.paragraphs.order_by("position"))
    threads = [
        add_comment(
            essay, paragraph=paragraphs[n % 3], author=bob, body=f"Thread number {n}, **bold**."
        )
        for n in range(9)
    ]
    threads.append(add_comment(essay, author=bob, body="On the [whole](https://e.example) essay."))
    for thread in threads:
        subscription_set(user=alice, essay=essay, thread=thread, level="follow")
    client.force_login(alice)
    page = client.get("/subscriptions/").content.decode()
    listed = rows(page)
    assert len(listed) == 10 and len(set(listed)) == 10, listed
    assert any(
        "“Thread number 4, bold.”, the thread Bob started on a paragraph of “A test essay”: "
        "Second." in row
        for row in listed
    ), listed
    whole = "“On the whole essay.”, the thread Bob started on the whole essay"
    assert any(whole in row for row in listed)
    assert "**" not in page and "](https://" not in page
    for thread in threads:
        assert f'href="/comments/{thread.pk}/thread/"' in page


def test_a_followed_thread_whose_text_is_gone_shows_no_text(client, essay, alice, bob):
    thread = add_comment(essay, author=bob, body="Something rude.")
    subscription_set(user=alice, essay=essay, thread=thread, level="follow")
    Comment.objects.filter(pk=thread.pk).update(status=Comment.Status.REMOVED)
    client.force_login(alice)
    page = client.get("/subscriptions/").content.decode()
    assert "Something rude" not in page
    [row] = rows(page)
    assert row.startswith("A thread (removed")


def test_ones_own_thread_is_the_thread_one_started(client, essay, alice):
    thread = add_comment(essay, author=alice, body="My own question.")
    subscription_set(user=alice, essay=essay, thread=thread, level="follow")
    client.force_login(alice)
    [row] = rows(client.get("/subscriptions/").content.decode())
    assert "“My own question.”, the thread you started on the whole essay" in row
