"""The contract between the discussion and moderation (forum/discussion/policy.py)."""

import inspect

import pytest
from django.test import Client

from forum.discussion import services
from forum.discussion.models import Comment
from forum.discussion.policy import DEFAULT_POLICY, DiscussionPolicy, PermissivePolicy, policy
from forum.moderation.models import WordRule
from forum.moderation.policy import ModerationPolicy

CONTRACT = [
    name
    for name, member in vars(DiscussionPolicy).items()
    if callable(member) and not name.startswith("_")
]


def test_the_contract_names_every_question_the_discussion_asks():
    assert sorted(CONTRACT) == sorted(
        [
            "blocked_words",
            "hold_reasons",
            "is_moderator",
            "moderator_ids",
            "posting_limits",
            "posting_refusal",
            "posting_refused",
        ]
    )


@pytest.mark.parametrize("implementation", [ModerationPolicy, PermissivePolicy])
@pytest.mark.parametrize("name", CONTRACT)
def test_each_policy_answers_every_question_with_the_contracts_signature(implementation, name):
    assert isinstance(implementation, DiscussionPolicy)
    expected = inspect.signature(getattr(DiscussionPolicy, name))
    expected = expected.replace(parameters=list(expected.parameters.values())[1:])  # self
    actual = inspect.signature(getattr(implementation, name))
    assert [(p.name, p.kind) for p in actual.parameters.values()] == [
        (p.name, p.kind) for p in expected.parameters.values()
    ]


def test_the_site_uses_moderations_policy_loaded_once():
    assert policy() is ModerationPolicy
    assert policy() is policy()


def test_the_discussion_runs_without_moderation(settings, user, make_essay):
    """With the permissive default, nothing is held or refused: the discussion alone."""
    settings.DISCUSSION_POLICY = DEFAULT_POLICY
    assert policy() is PermissivePolicy
    settings.MODERATION_FIRST_COMMENTS_REVIEWED = 5
    WordRule.objects.create(word="viagra", kind=WordRule.Kind.BLOCKED)
    essay = make_essay("First.")
    comment = services.comment_post(author=user, essay=essay, body="Cheap viagra, first post.")
    assert comment.status == Comment.Status.PUBLISHED
    page = Client().get(essay.get_absolute_url()).content.decode()
    assert "Cheap viagra, first post." in page
