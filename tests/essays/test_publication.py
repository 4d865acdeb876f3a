"""Publishing a revision from the site: small essays within the request, big ones through a
publication job the task worker runs, with a progress page for editors."""

import hashlib
import io
import re

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from essays.models import Essay, EssayRevision, Paragraph, PublicationJob
from essays.services import essay_import, publication_run
from essays.signals import essay_revised
from forum.discussion import services as discussion
from forum.discussion.models import Comment
from forum.moderation.services import moderators_group
from tests.conftest import essay_source, make_user

ALPHA = "Alpha paragraph with several words in it."
BETA = "Beta paragraph stays as it is."
GAMMA = "Gamma goes away in the revision."
DELTA = "Delta paragraph is the fourth of five."
EPSILON = "Epsilon paragraph closes the essay."
REVISED = essay_source(f"{ALPHA} Now longer.", BETA, DELTA, EPSILON, "Zeta arrives.")


@pytest.fixture(autouse=True)
def worker_above_three_paragraphs(settings):
    """The test essays have five paragraphs: above three, the worker publishes."""
    settings.PUBLISH_IN_WORKER_ABOVE = 3


@pytest.fixture
def essay(db) -> Essay:
    return essay_import(source=essay_source(ALPHA, BETA, GAMMA, DELTA, EPSILON)).essay


@pytest.fixture
def editor(db):
    user = make_user("editor@example.org", "Ed Itor")
    user.user_permissions.add(Permission.objects.get(codename="change_essay"))
    return user


@pytest.fixture
def moderator(db):
    """A moderator is not an editor: moderating comments is not publishing essays."""
    user = make_user("mod@example.org", "Mo Derator")
    user.groups.add(moderators_group())
    return user


def editor_client(editor) -> Client:
    client = Client()
    client.force_login(editor)
    return client


def publish_url(essay) -> str:
    return f"/essays/{essay.slug}/publish/"


def publish_form(source: str, revision: int = 1) -> dict:
    """What the preview page's form sends when the editor presses "Publish"."""
    digest = hashlib.sha256(source.encode()).hexdigest()
    return {"source": source, "publish": "1", "previewed": digest, "revision": revision}


def snapshot(essay) -> list[tuple]:
    """Everything a publication may change, to prove a refused or failed one changed nothing."""
    essay = Essay.objects.get(pk=essay.pk)
    return [
        (essay.revision, essay.source, essay.title),
        list(Paragraph.objects.filter(essay=essay).values_list("key", "position", "text")),
        list(Paragraph.objects.filter(essay=essay).values_list("retired_in", flat=True)),
        EssayRevision.objects.filter(essay=essay).count(),
        list(Comment.objects.values_list("anchor_status", flat=True)),
    ]


def enqueue(essay, editor, source=REVISED) -> PublicationJob:
    response = editor_client(editor).post(publish_url(essay), publish_form(source))
    job = PublicationJob.objects.get()
    assert response.status_code == 302 and response.url == job.get_absolute_url()
    return job


def status_of(client, job) -> str:
    page = client.get(job.get_absolute_url()).content.decode()
    return re.sub(r"\s+", " ", page)


def test_a_small_essay_is_still_published_within_the_request(essay, editor, settings):
    settings.PUBLISH_IN_WORKER_ABOVE = 5  # five before, five after: not above
    client = editor_client(editor)
    preview = client.post(publish_url(essay), {"source": REVISED, "preview": "1"})
    assert 'name="revision" value="1"' in preview.content.decode()
    response = client.post(publish_url(essay), publish_form(REVISED), follow=True)
    assert response.redirect_chain == [(essay.get_absolute_url(), 302)]
    assert "Published revision 2: 4 kept, 1 added, 1 retired." in response.content.decode()
    assert not PublicationJob.objects.exists()
    essay.refresh_from_db()
    assert essay.revision == 2 and essay.source == REVISED


def test_a_big_essay_is_published_by_the_worker_and_its_page_follows_it(
    transactional_db, editor, user
):
    essay = essay_import(source=essay_source(ALPHA, BETA, GAMMA, DELTA, EPSILON)).essay
    alpha, _beta, gamma = essay.paragraphs.order_by("position")[:3]
    discussion.comment_post(author=user, essay=essay, body="On alpha.", paragraph=alpha)
    discussion.comment_post(author=user, essay=essay, body="On gamma.", paragraph=gamma)
    client = editor_client(editor)

    job = enqueue(essay, editor)
    assert (job.status, job.base_revision, job.source) == ("queued", 1, REVISED)
    assert (job.old_paragraphs, job.new_paragraphs) == (5, None)  # until the worker parses
    assert Essay.objects.get(pk=essay.pk).revision == 1  # nothing published yet
    page = status_of(client, job)
    assert "Queued.</strong>" in page and f'href="{job.get_absolute_url()}">Refresh</a>' in page
    assert f'hx-get="{job.get_absolute_url()}" hx-trigger="every 2s"' in page
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in page
    fragment = client.get(job.get_absolute_url(), HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment
    assert 'id="publication-status"' in fragment and "Queued." in fragment

    out = io.StringIO()
    call_command("worker", "--batch", "--no-startup-delay", "--interval", "0", stdout=out)

    job.refresh_from_db()
    assert job.new_paragraphs == 5
    assert (
        job.status == "done"
        and DBTaskResult.objects.get(id=job.task_id).status == TaskResultStatus.SUCCESSFUL
    )
    page = status_of(client, job)
    assert "Done.</strong> Published revision 2: 4 kept, 1 added, 1 retired." in page
    assert f'<a href="{essay.get_absolute_url()}">Read the essay</a>' in page
    assert 'hx-trigger="every 2s"' not in page and "http-equiv" not in page  # no more polling
    essay.refresh_from_db()
    assert essay.revision == 2 and essay.source == REVISED
    statuses = dict(Comment.objects.values_list("body", "anchor_status"))
    assert statuses == {"On alpha.": "moved", "On gamma.": "orphaned"}


def test_the_page_says_what_a_running_job_is_doing(essay, editor):
    job = enqueue(essay, editor)
    # As the worker leaves it while matching paragraphs (publication_run's first step).
    PublicationJob.objects.filter(pk=job.pk).update(status="running", stage="matching")
    page = status_of(editor_client(editor), job)
    assert "Running:</strong> Matching the paragraphs of both versions." in page
    assert 'hx-trigger="every 2s"' in page


def test_a_job_runs_once(essay, editor):
    job = enqueue(essay, editor)
    assert publication_run(job_id=job.pk).status == "done"
    before = snapshot(essay)
    assert publication_run(job_id=job.pk) is None  # a task run again after it finished
    assert snapshot(essay) == before


def test_a_stale_job_fails_and_changes_nothing(essay, editor):
    job = enqueue(essay, editor)
    # Another revision is published between the preview and the worker.
    essay_import(source=essay_source(ALPHA, BETA, GAMMA, DELTA))
    before = snapshot(essay)
    job = publication_run(job_id=job.pk)
    assert job.status == "failed"
    assert snapshot(essay) == before
    page = status_of(editor_client(editor), job)
    assert (
        "Failed.</strong> The essay was revised since this preview (it is now at revision 2)"
        in page
    )
    assert "nothing was published" in page and 'hx-trigger="every 2s"' not in page


def test_a_failure_while_applying_leaves_nothing_half_applied(essay, editor, user):
    discussion.comment_post(
        author=user, essay=essay, body="On gamma.", paragraph=essay.paragraphs.get(text=GAMMA)
    )
    job = enqueue(essay, editor)
    before = snapshot(essay)

    def receiver_that_fails(**kwargs):
        raise RuntimeError("a receiver failed after the paragraphs were written")

    essay_revised.connect(receiver_that_fails, dispatch_uid="test-failing-receiver")
    try:
        with pytest.raises(RuntimeError):
            publication_run(job_id=job.pk)
    finally:
        essay_revised.disconnect(dispatch_uid="test-failing-receiver")
    assert snapshot(essay) == before
    job.refresh_from_db()
    assert job.status == "failed" and "nothing was published" in job.failure


def test_a_job_the_worker_gave_up_on_reads_as_failed(essay, editor):
    job = enqueue(essay, editor)
    # What the worker records of a task that killed every worker that ran it.
    DBTaskResult.objects.filter(id=job.task_id).update(status=TaskResultStatus.FAILED)
    page = status_of(editor_client(editor), job)
    assert "Failed.</strong> The task worker could not finish the publication" in page


def test_a_stale_preview_is_not_published_in_the_request_either(essay, editor, settings):
    settings.PUBLISH_IN_WORKER_ABOVE = 300
    essay_import(source=essay_source(ALPHA, BETA, GAMMA, DELTA))  # revision 2
    before = snapshot(essay)
    response = editor_client(editor).post(publish_url(essay), publish_form(REVISED, revision=1))
    page = response.content.decode()
    assert response.status_code == 409 and snapshot(essay) == before
    # The page previews the revision against the essay as it is now.
    assert "it is now at revision 2" in page and 'name="revision" value="2"' in page


def test_a_stale_preview_of_a_big_essay_creates_no_job(essay, editor):
    essay_import(source=essay_source(ALPHA, BETA, GAMMA, DELTA))
    response = editor_client(editor).post(publish_url(essay), publish_form(REVISED, revision=1))
    assert response.status_code == 409 and not PublicationJob.objects.exists()


def test_a_source_other_than_the_one_previewed_creates_no_job(essay, editor):
    form = publish_form(REVISED) | {"source": REVISED + "\nOne more.\n"}
    response = editor_client(editor).post(publish_url(essay), form)
    assert response.status_code == 200 and "Preview" in response.content.decode()
    assert not PublicationJob.objects.exists()


def test_only_editors_see_a_job(essay, editor, user, moderator, client):
    job = enqueue(essay, editor)
    url = job.get_absolute_url()
    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    for member in (user, moderator):
        client.force_login(member)
        response = client.get(url)
        assert response.status_code == 403
        assert "Only the site’s editors" in response.content.decode()
        assert client.get(url, HTTP_HX_REQUEST="true").status_code == 403
        assert "Published" not in response.content.decode()
    client.force_login(editor)
    assert client.post(url).status_code == 405  # a page to read, not a form


def test_a_job_is_found_only_under_its_own_essay(essay, editor, make_essay):
    job = enqueue(essay, editor)
    other = make_essay("Another essay.", slug="another")
    client = editor_client(editor)
    assert client.get(f"/essays/{other.slug}/publish/{job.pk}/").status_code == 404
    assert client.get(f"/essays/{essay.slug}/publish/{job.pk + 1}/").status_code == 404


def test_readers_and_moderators_cannot_publish_or_enqueue(essay, user, moderator):
    before = snapshot(essay)
    for member in (user, moderator):
        response = editor_client(member).post(publish_url(essay), publish_form(REVISED))
        assert response.status_code == 403
    assert Client().post(publish_url(essay), publish_form(REVISED)).status_code == 302
    assert snapshot(essay) == before and not PublicationJob.objects.exists()


def test_publishing_needs_the_csrf_token(essay, editor):
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    response = client.post(publish_url(essay), publish_form(REVISED))
    assert response.status_code == 403 and not PublicationJob.objects.exists()
    page = client.get(publish_url(essay)).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = publish_form(REVISED) | {"csrfmiddlewaretoken": token}
    assert client.post(publish_url(essay), form).status_code == 302
    assert PublicationJob.objects.count() == 1


def essay_of(paragraphs: int, *, slug: str) -> Essay:
    return essay_import(
        source=essay_source(
            *(f"Paragraph {n} says something." for n in range(paragraphs)), slug=slug
        )
    ).essay


def revised_source(paragraphs: int, *, slug: str) -> str:
    """A quarter of the paragraphs changed, one removed, one added."""
    blocks = [
        f"Paragraph {n} says something{' else' if n % 4 == 0 else ''}."
        for n in range(1, paragraphs)
    ]
    return essay_source(*blocks, "A new last paragraph.", slug=slug)


def test_publication_queries_do_not_grow_with_paragraphs_or_comments(editor, user, settings):
    settings.COMMENT_RATE_LIMITS = [(1000, 60)]
    counts = []
    for size in (8, 40):
        essay = essay_of(size, slug=f"essay-{size}")
        for paragraph in essay.paragraphs.all()[: size // 4]:
            discussion.comment_post(
                author=user, essay=essay, body=f"On {paragraph.key}.", paragraph=paragraph
            )
        response = editor_client(editor).post(
            publish_url(essay), publish_form(revised_source(size, slug=essay.slug))
        )
        job = PublicationJob.objects.get(essay=essay)
        assert response.url == job.get_absolute_url()
        with CaptureQueriesContext(connection) as queries:
            assert publication_run(job_id=job.pk).status == "done"
        counts.append(len(queries))
    # Comments are re-anchored with one statement per outcome (placed, moved or orphaned,
    # quote lost or not), not per comment: the larger essay may meet more of the six.
    assert counts[0] <= counts[1] <= counts[0] + 5, counts
    assert counts[1] <= 30


def test_a_big_source_that_does_not_parse_fails_its_job_with_the_reason(essay, editor):
    # The request does not parse a big source (the worker does): a form sent without a
    # preview, with a digest of its own, still publishes nothing.
    job = enqueue(essay, editor, source=REVISED.replace("title: A test essay\n", ""))
    before = snapshot(essay)
    assert publication_run(job_id=job.pk).status == "failed"
    assert snapshot(essay) == before
    assert "Failed.</strong> The front matter needs a &#x27;title&#x27;." in status_of(
        editor_client(editor), job
    )


def test_a_small_essay_growing_big_is_published_by_the_worker(make_essay, editor):
    essay = make_essay(ALPHA, BETA)
    enqueue(essay, editor)  # two paragraphs before, five after
    assert PublicationJob.objects.get().old_paragraphs == 2


def test_a_source_naming_an_unknown_essay_is_refused_in_words(essay, editor):
    source = essay.source.replace(f"slug: {essay.slug}", "slug: no-such-essay")
    assert source != essay.source
    before = snapshot(essay)
    response = editor_client(editor).post(publish_url(essay), {"source": source})
    page = response.content.decode()
    assert response.status_code == 400
    assert "The source&#x27;s slug names no essay; keep this essay&#x27;s slug." in page
    assert "matching query does not exist" not in page
    assert snapshot(essay) == before
