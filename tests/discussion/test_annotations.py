"""The W3C Web Annotation export (forum/discussion/annotations.py), validated against the
JSON schemas of the W3C's own Web Annotation test suite (tests/data/web-annotation/)."""

import io
import json
from functools import cache

import html5lib
import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource, Unresolvable
from referencing.jsonschema import DRAFT4

from essays.models import Essay
from essays.services import essay_import
from forum.discussion.models import Comment
from tests.conftest import TEST_DATA, add_comment, essay_source, post

SUITE = TEST_DATA / "web-annotation"
SITE = "https://essays.example.org"
CONTEXT = "http://www.w3.org/ns/anno.jsonld"

OPENING = "The opening paragraph holds a passage worth quoting, and a passage worth quoting."
SECOND = "A second paragraph, discussed on its own."


# The test suite --------------------------------------------------------------------------


def refuse_network(uri: str):
    raise NoSuchResource(ref=uri)


@cache
def registry() -> Registry:
    """The suite's shared definitions, under the ids its schemas refer to them by; any
    other reference fails rather than being fetched."""
    resources = []
    for path in sorted((SUITE / "definitions").glob("*.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        resources.append((schema["id"], Resource.from_contents(schema, DRAFT4)))
    return Registry(retrieve=refuse_network).with_resources(resources)


def validator(schema: dict) -> Draft4Validator:
    return Draft4Validator(
        schema, registry=registry(), format_checker=Draft4Validator.FORMAT_CHECKER
    )


def assertion(name: str) -> dict:
    return json.loads((SUITE / name).read_text(encoding="utf-8"))


def assertions_of(test: str) -> list[str]:
    """The assertions a test of the suite (a `.test` file) makes."""
    return assertion(test)["assertions"]


def failures(instance: dict, names: list[str]) -> list[str]:
    """The suite's error message for each assertion the instance does not meet."""
    found = []
    for name in names:
        schema = assertion(name)
        assert schema["expectedResult"] == "valid", name
        if not validator(schema).is_valid(instance):
            found.append(f"{name}: {schema.get('errorMessage', schema['title'])}")
    return found


def annotation_failures(document: dict, annotation: dict, names: list[str]) -> list[str]:
    # An annotation of a collection is read in the collection's context.
    return failures({"@context": document["@context"], **annotation}, names)


ANNOTATION_MUSTS = "annotations/annotationMusts.test"
COLLECTION_MUSTS = "collections/collectionMusts.test"
PAGE_MUSTS = "collections/pages/pageMusts.test"

# Optional features of the model we claim: the suite's schemas that detect them.
EVERY_ANNOTATION = [
    "annotations/3.1-bodyKeyFound.json",
    "annotations/3.3.1-annotationCreatorImplemented.json",
    "annotations/3.3.1-annotationCreatedImplemented.json",
    "annotations/3.3.2-annotationCreatorAgentNameImplemented.json",
    "annotations/3.3.2-annotationCreatorAgentTypeImplemented.json",
    "annotations/3.3.5-annotationMotivationImplemented.json",
    "annotations/bodiesTargets/3.2.1-bodyFormat.json",
]
ON_A_PASSAGE = [
    "annotations/specificResource/4.2.4-textQuoteSelector.json",
    "annotations/specificResource/4.2.4-prefix.json",
    "annotations/specificResource/4.2.4-suffix.json",
]
ON_A_PARAGRAPH = ["annotations/specificResource/4.2.1-fragmentSelector.json"]
TEXT_POSITION_SELECTOR = {"$ref": "specificResource.json#/definitions/textPositionSelectorDetected"}


def test_the_suite_checks_formats_and_never_fetches():
    """Without the format checkers a `uri` or `date-time` would pass unchecked."""
    assert {"uri", "date-time"} <= set(Draft4Validator.FORMAT_CHECKER.checkers)
    with pytest.raises(Unresolvable):
        validator({"$ref": "https://www.w3.org/ns/elsewhere.json"}).is_valid({})


# The export -----------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def essay(db):
    return essay_import(source=essay_source("## A heading", OPENING, SECOND)).essay


@pytest.fixture
def paragraphs(essay):
    heading, opening, second = essay.paragraphs.order_by("position")
    return {"heading": heading, "opening": opening, "second": second}


def annotations_url(essay) -> str:
    return reverse("discussion:essay_annotations", kwargs={"slug": essay.slug})


def export(essay, client=None) -> dict:
    response = (client or Client()).get(annotations_url(essay))
    assert response.status_code == 200
    assert response["Content-Type"] == (
        'application/ld+json; profile="http://www.w3.org/ns/anno.jsonld"'
    )
    return response.json()


def by_id(document) -> dict[str, dict]:
    items = document["first"]["items"] if document["total"] else []
    return {annotation["id"]: annotation for annotation in items}


def annotation_id(comment) -> str:
    return SITE + reverse("discussion:comment_permalink", kwargs={"pk": comment.pk})


@pytest.fixture
def discussion(essay, paragraphs, user, other_user):
    """A comment of each kind: on a passage (whose words occur twice in the paragraph: the
    second occurrence), on a paragraph, on the whole essay, and a reply."""
    passage = post(
        user,
        essay,
        "The *second* time it says so.",
        paragraph=paragraphs["opening"],
        quote="a passage worth quoting",
        quote_prefix="and ",
        quote_suffix=".",
    )
    return {
        "passage": passage,
        "paragraph": post(other_user, essay, "On the second.", paragraph=paragraphs["second"]),
        "essay": post(other_user, essay, "On the whole essay."),
        "reply": post(other_user, essay, "A reply.", parent=passage),
    }


def test_the_export_meets_every_must_of_the_w3c_test_suite(essay, discussion):
    document = export(essay)
    assert document["total"] == 4
    assert failures(document, assertions_of(COLLECTION_MUSTS)) == []
    assert failures(document, assertions_of(PAGE_MUSTS)) == []
    assert failures(document, ["collections/5.1-collectionTotalImplemented.json"]) == []
    annotations = by_id(document)
    for annotation in annotations.values():
        musts = assertions_of(ANNOTATION_MUSTS) + EVERY_ANNOTATION
        assert annotation_failures(document, annotation, musts) == [], annotation["id"]
    passage = annotations[annotation_id(discussion["passage"])]
    assert annotation_failures(document, passage, ON_A_PASSAGE + ON_A_PARAGRAPH) == []
    paragraph = annotations[annotation_id(discussion["paragraph"])]
    assert annotation_failures(document, paragraph, ON_A_PARAGRAPH) == []
    position = passage["target"]["selector"][1]["refinedBy"]
    assert validator(TEXT_POSITION_SELECTOR).is_valid(position)


def test_the_suite_would_catch_a_broken_export(essay, discussion):
    """The validation is not vacuous: what the model forbids fails the suite's musts."""
    document = export(essay)
    passage = by_id(document)[annotation_id(discussion["passage"])]
    musts = assertions_of(ANNOTATION_MUSTS)
    broken = [
        {**passage, "id": "not a uri"},
        {key: value for key, value in passage.items() if key != "target"},
        {**passage, "created": "yesterday"},
        {**passage, "bodyValue": "text", "body": passage["body"]},
        {
            **passage,
            "target": {
                **passage["target"],
                "selector": [{"type": "TextPositionSelector", "start": -1, "end": 3}],
            },
        },
    ]
    for annotation in broken:
        assert annotation_failures(document, annotation, musts), annotation
    assert failures(
        {**document, "@context": "http://example.org/"}, assertions_of(COLLECTION_MUSTS)
    )
    assert not validator(TEXT_POSITION_SELECTOR).is_valid({"type": "TextPositionSelector"})


def test_each_kind_of_comment_targets_what_it_discusses(essay, paragraphs, discussion):
    annotations = by_id(export(essay))
    essay_url = SITE + essay.get_absolute_url()

    passage = annotations[annotation_id(discussion["passage"])]
    assert passage["motivation"] == "commenting"
    assert passage["target"]["source"] == essay_url
    quote, fragment = passage["target"]["selector"]
    assert quote == {
        "type": "TextQuoteSelector",
        "exact": "a passage worth quoting",
        "prefix": discussion["passage"].quote_prefix,
        "suffix": discussion["passage"].quote_suffix,
    }
    assert fragment["value"] == paragraphs["opening"].anchor
    # The second occurrence, which the context tells apart, counted in the paragraph's text.
    position = fragment["refinedBy"]
    assert position["start"] == OPENING.rindex("a passage worth quoting")
    assert OPENING[position["start"] : position["end"]] == "a passage worth quoting"

    paragraph = annotations[annotation_id(discussion["paragraph"])]
    assert paragraph["target"] == {
        "type": "SpecificResource",
        "source": essay_url,
        "selector": {
            "type": "FragmentSelector",
            "conformsTo": "http://tools.ietf.org/rfc/rfc3986",
            "value": paragraphs["second"].anchor,
        },
    }
    assert annotations[annotation_id(discussion["essay"])]["target"] == essay_url

    reply = annotations[annotation_id(discussion["reply"])]
    assert reply["motivation"] == "replying"
    assert reply["target"] == passage["id"]


def test_an_annotation_carries_its_author_dates_and_sanitized_html(essay, user, discussion):
    from forum.discussion.services import comment_edit

    comment_edit(comment=discussion["essay"], editor=discussion["essay"].author, body="Edited.")
    annotations = by_id(export(essay))
    passage = annotations[annotation_id(discussion["passage"])]
    assert passage["creator"] == {
        "type": "Person",
        "name": "Rea Der",
        "id": SITE + user.get_absolute_url(),
    }
    assert passage["body"] == {
        "type": "TextualBody",
        "value": discussion["passage"].body_html,
        "format": "text/html",
    }
    assert "<em>second</em>" in passage["body"]["value"]
    assert passage["created"].endswith("Z") and "modified" not in passage
    edited = annotations[annotation_id(discussion["essay"])]
    assert edited["body"]["value"] == "<p>Edited.</p>\n"
    assert edited["modified"] >= edited["created"]


def test_the_fragment_names_an_element_of_the_page_it_targets(essay, paragraphs, discussion):
    annotations = by_id(export(essay))
    paragraph = annotations[annotation_id(discussion["paragraph"])]["target"]
    page = Client().get(paragraph["source"].removeprefix(SITE))
    document = html5lib.parse(page.content.decode(), namespaceHTMLElements=False)
    assert document.find(f".//*[@id='{paragraph['selector']['value']}']") is not None


def test_a_comment_on_a_retired_paragraph_targets_the_last_revision_that_had_it(
    essay, paragraphs, user
):
    comment = post(
        user,
        essay,
        "On words a revision removed.",
        paragraph=paragraphs["opening"],
        quote="a passage worth quoting",
        quote_prefix="holds ",
    )
    essay_import(source=essay_source("## A heading", SECOND))  # revision 2 retires it
    target = by_id(export(essay))[annotation_id(comment)]["target"]
    revision = reverse("essays:revision_detail", kwargs={"slug": essay.slug, "number": 1})
    assert target["source"] == SITE + revision
    assert target["selector"][1]["refinedBy"]["start"] == OPENING.index("a passage worth quoting")
    page = Client().get(revision)
    assert f'id="{paragraphs["opening"].anchor}"' in page.content.decode()


@pytest.mark.parametrize("status", ["pending", "hidden", "removed", "deleted"])
def test_only_what_an_anonymous_reader_may_read_is_exported(essay, user, status):
    shown = post(user, essay, "Published.")
    unseen = add_comment(essay, body=f"SECRET {status}", author=user)
    Comment.objects.filter(pk=unseen.pk).update(status=status)
    response = Client().get(annotations_url(essay))
    assert b"SECRET" not in response.content
    assert set(by_id(response.json())) == {annotation_id(shown)}


def test_an_unpublished_or_missing_essay_has_no_export(essay, user):
    post(user, essay, "On an essay about to be withdrawn.")
    Essay.objects.filter(pk=essay.pk).update(status=Essay.Status.DRAFT)
    assert Client().get(annotations_url(essay)).status_code == 404
    missing = reverse("discussion:essay_annotations", kwargs={"slug": "no-such-essay"})
    assert Client().get(missing).status_code == 404
    with pytest.raises(CommandError, match="No published essay"):
        call_command("export_annotations", essay.slug, stdout=io.StringIO())
    assert Client().post(missing).status_code == 405


def test_an_essay_without_comments_is_an_empty_collection(essay):
    document = export(essay)
    assert document["total"] == 0 and "first" not in document
    assert failures(document, assertions_of(COLLECTION_MUSTS)) == []


def test_the_seed_essay_and_its_imported_responses_export_valid_annotations(seeded_essay):
    """Real data: the seed essay's two reader responses, undated, one signed with a name
    only and one unsigned."""
    document = export(seeded_essay)
    responses = Comment.objects.filter(essay=seeded_essay)
    assert document["total"] == responses.count() == 2
    assert failures(document, assertions_of(COLLECTION_MUSTS) + assertions_of(PAGE_MUSTS)) == []
    for response in responses:
        annotation = by_id(document)[annotation_id(response)]
        assert annotation_failures(document, annotation, assertions_of(ANNOTATION_MUSTS)) == []
        assert "created" not in annotation  # we invent no date
        if response.author_name:
            assert annotation["creator"] == {"type": "Person", "name": response.author_name}
        else:
            assert "creator" not in annotation


def test_the_command_writes_what_the_url_serves(essay, discussion):
    out = io.StringIO()
    call_command("export_annotations", essay.slug, stdout=out)
    assert json.loads(out.getvalue()) == export(essay)


def test_a_conditional_get_is_answered_304_until_the_discussion_changes(essay, user):
    post(user, essay, "First.")
    client = Client()
    response = client.get(annotations_url(essay))
    etag = response["ETag"]
    assert client.get(annotations_url(essay), headers={"if-none-match": etag}).status_code == 304
    post(user, essay, "Second.")
    response = client.get(annotations_url(essay), headers={"if-none-match": etag})
    assert response.status_code == 200 and response.json()["total"] == 2


def test_the_export_costs_the_same_queries_with_0_or_50_comments(
    essay, paragraphs, user, django_assert_num_queries
):
    from django.core.cache import cache

    def measured() -> dict:
        cache.clear()  # the essay's state is read from the database too
        with django_assert_num_queries(4):  # state, its check, the essay, its comments
            return export(essay)

    assert measured()["total"] == 0
    top = add_comment(
        essay, body="Top.", paragraph=paragraphs["opening"], author=user, quote="a passage"
    )
    for number in range(49):
        add_comment(essay, body=f"Reply {number}.", parent=top, author=user)
    assert measured()["total"] == 50
