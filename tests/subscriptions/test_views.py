from django.test import Client

from forum.subscriptions import services
from forum.subscriptions.models import Notification, Subscription

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_follow_mute_and_reset_from_plain_forms_and_htmx(client, essay, fifth, alice):
    client.force_login(alice)
    data = {
        "essay": essay.pk,
        "paragraph": fifth.pk,
        "level": "follow",
        "next": fifth.get_absolute_url(),
    }
    response = client.post("/subscriptions/set/", data)
    assert response.status_code == 302 and response.url == fifth.get_absolute_url()
    assert Subscription.objects.get(user=alice).level == "follow"
    fragment = client.post("/subscriptions/set/", {**data, "level": "mute"}, **HTMX)
    assert "<html" not in fragment.content.decode() and "Muted" in fragment.content.decode()
    assert Subscription.objects.get(user=alice).level == "mute"
    client.post("/subscriptions/set/", {**data, "level": ""})
    assert not Subscription.objects.exists()
    page = client.get(fifth.get_absolute_url()).content.decode()
    assert "Follow this paragraph" in page


def test_following_needs_a_login_a_csrf_token_and_a_known_target(essay, fifth, alice, make_essay):
    assert (
        Client().post("/subscriptions/set/", {"essay": essay.pk, "level": "follow"}).status_code
        == 302
    )
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    assert (
        strict.post("/subscriptions/set/", {"essay": essay.pk, "level": "follow"}).status_code
        == 403
    )
    client = Client()
    client.force_login(alice)
    other = make_essay("Elsewhere.", slug="elsewhere")
    foreign = other.paragraphs.get()
    assert (
        client.post(
            "/subscriptions/set/", {"essay": essay.pk, "paragraph": foreign.pk, "level": "follow"}
        ).status_code
        == 404
    )
    assert (
        client.post("/subscriptions/set/", {"essay": essay.pk, "level": "shout"}).status_code == 400
    )
    assert (
        client.post(
            "/subscriptions/set/",
            {"essay": essay.pk, "level": "follow", "next": "https://evil.example/"},
        ).url
        == "/subscriptions/"
    )
    assert Subscription.objects.filter(user=alice).count() == 1


def test_the_following_page_lists_targets_and_saves_email_settings(
    client, essay, fifth, alice, post, user
):
    top = post(user, essay, "A thread.")
    services.subscription_set(user=alice, essay=essay, level="follow")
    services.subscription_set(user=alice, essay=essay, paragraph=fifth, level="mute")
    services.subscription_set(user=alice, essay=essay, thread=top, level="follow")
    client.force_login(alice)
    content = client.get("/subscriptions/").content.decode()
    assert (
        "The essay" in content
        and "Fifth." in content
        and "the thread Rea Der started on the whole essay" in " ".join(content.split())
    )
    assert content.count('class="follow-control"') == 3
    response = client.post("/subscriptions/", {"email": "daily"})
    assert response.status_code == 302
    assert (
        services.settings_for(alice).email == "daily"
        and not services.settings_for(alice).follow_on_post
    )
    assert client.post("/subscriptions/", {"email": "hourly"}).status_code == 400


def test_the_bell_counts_unread_and_opening_a_notification_marks_it_read(
    client, post, run_tasks, essay, fifth, alice, user
):
    services.subscription_set(user=alice, essay=essay, level="follow")
    comments = [post(user, essay, f"Note {n}.", paragraph=fifth) for n in range(2)]
    run_tasks()
    client.force_login(alice)
    page = client.get(essay.get_absolute_url()).content.decode()
    assert '<span class="badge">2</span>' in page
    bell = client.get("/notifications/bell/").content.decode()
    assert "<html" not in bell and '<span class="badge">2</span>' in bell
    listing = client.get("/notifications/").content.decode()
    assert listing.index("Note 1.") < listing.index("Note 0.")  # newest first
    first = Notification.objects.get(comment=comments[0])
    response = client.get(f"/notifications/{first.pk}/")
    assert response.url == comments[0].get_absolute_url()
    assert Notification.objects.filter(recipient=alice).unread().count() == 1
    client.post("/notifications/read-all/")
    assert Notification.objects.filter(recipient=alice).unread().count() == 0
    assert 'class="badge"' not in client.get("/notifications/bell/").content.decode()


def test_no_one_opens_anothers_notification(client, post, run_tasks, essay, alice, bob, user):
    services.subscription_set(user=alice, essay=essay, level="follow")
    post(user, essay, "For Alice.")
    run_tasks()
    notification = Notification.objects.get(recipient=alice)
    client.force_login(bob)
    assert client.get(f"/notifications/{notification.pk}/").status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None
