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
