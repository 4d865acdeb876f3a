"""Every admin list and change page opens for the site owner."""

import pytest
from django.contrib import admin


@pytest.fixture
def owner_client(client, django_user_model):
    owner = django_user_model.objects.create_superuser(
        email="owner@example.org", password="owner-password-123", display_name="Owner"
    )
    client.force_login(owner)
    return client


def test_every_registered_model_lists_and_opens(owner_client, seeded_essay):
    for model in admin.site._registry:
        meta = model._meta
        changelist = f"/admin/{meta.app_label}/{meta.model_name}/"
        assert owner_client.get(changelist).status_code == 200, changelist
        instance = model.objects.first()
        if instance is not None:
            response = owner_client.get(f"{changelist}{instance.pk}/change/")
            assert response.status_code == 200, changelist


def test_the_essay_page_links_to_publishing_a_revision(owner_client, seeded_essay):
    content = owner_client.get(f"/admin/essays/essay/{seeded_essay.pk}/change/").content.decode()
    assert f"/essays/{seeded_essay.slug}/publish/" in content


def test_a_suspension_or_a_report_is_not_deleted_around_the_audit_log(
    owner_client, seeded_essay, django_user_model
):
    """Lifting a suspension or dropping a report goes through the moderation pages, which
    log it; the owner may delete such rows only with the account they belong to."""
    from forum.discussion.models import Comment
    from forum.moderation.models import Flag, Restriction

    reader = django_user_model.objects.create_user(
        email="reader@example.org", password="reader-password-123", display_name="Reader"
    )
    suspension = Restriction.objects.create(user=reader, kind=Restriction.Kind.SUSPENSION)
    comment = Comment.objects.filter(essay=seeded_essay).first()
    report = Flag.objects.create(comment=comment, reporter=reader, reason="spam")
    for row, url in (
        (suspension, f"/admin/moderation/restriction/{suspension.pk}/delete/"),
        (report, f"/admin/moderation/flag/{report.pk}/delete/"),
    ):
        assert owner_client.get(url).status_code == 403
        assert owner_client.post(url, {"post": "yes"}).status_code == 403
        changelist = url.rsplit("/", 3)[0] + "/"
        page = owner_client.get(changelist).content.decode()
        assert "delete_selected" not in page
        response = owner_client.post(
            changelist, {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"}
        )
        assert response.status_code in (200, 302)
        assert type(row).objects.filter(pk=row.pk).exists()
    # With the account, they go.
    response = owner_client.post(f"/admin/accounts/user/{reader.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Restriction.objects.filter(pk=suspension.pk).exists()
    assert not Flag.objects.filter(pk=report.pk).exists()


def test_accounts_deleted_together_leave_no_page_showing_them(
    owner_client, seeded_essay, django_user_model
):
    """The changelist's "Delete selected": their comments lose their author's name on the
    page every visitor gets, at once."""
    from django.test import Client

    from tests.conftest import add_comment

    spammers = [
        django_user_model.objects.create_user(
            email=f"spam{n}@example.org", password="spam-password-123", display_name=f"Spammer {n}"
        )
        for n in range(2)
    ]
    for spammer in spammers:
        add_comment(seeded_essay, author=spammer, body="Buy now.")
    url = seeded_essay.get_absolute_url()
    assert "Spammer 1" in Client().get(url).content.decode()
    response = owner_client.post(
        "/admin/accounts/user/",
        {"action": "delete_selected", "_selected_action": [s.pk for s in spammers], "post": "yes"},
    )
    assert response.status_code == 302
    assert not django_user_model.objects.filter(email__startswith="spam").exists()
    page = Client().get(url).content.decode()
    assert "Spammer 0" not in page and "Spammer 1" not in page


def test_an_account_is_deleted_before_the_pages_showing_it_are_said_to_change(
    seeded_essay, django_user_model
):
    """Else a page rendered in between, still showing them, would be kept as the new one
    (the admin's bulk delete runs outside any transaction)."""
    from django.db import connection

    from tests.conftest import add_comment

    member = django_user_model.objects.create_user(
        email="leaving@example.org", password="leaving-password-123", display_name="Leaving"
    )
    add_comment(seeded_essay, author=member, body="Goodbye.")
    statements = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        member.delete()
    deleted = next(
        i for i, sql in enumerate(statements) if sql.startswith('DELETE FROM "accounts_user"')
    )
    bumped = next(
        i
        for i, sql in enumerate(statements)
        if "discussion_version" in sql and sql.startswith("UPDATE")
    )
    assert deleted < bumped
