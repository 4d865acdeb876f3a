from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import ngettext

from essays.models import Essay
from forum.discussion.imports import (
    ImportFileError,
    ImportPlan,
    comments_import,
    import_plan,
    read_export,
)

# How much of a paragraph names it in the summary.
EXCERPT_LENGTH = 50


def comments(count: int) -> str:
    return ngettext("%(count)d comment", "%(count)d comments", count) % {"count": count}


def new_threads(count: int) -> str:
    return ngettext("%(count)d new thread", "%(count)d new threads", count) % {"count": count}


class Command(BaseCommand):
    help = (
        "Import the comments of one post from a WordPress (WXR) or Disqus export onto an essay, "
        "with their threads, dates and authors' names (safe to run again: what is there stays)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the export file (WXR or Disqus XML)")
        parser.add_argument("--essay", required=True, help="the slug of the essay to import onto")
        parser.add_argument(
            "--thread",
            default="",
            help="the post in the file, by its link or id, when its slug is not the essay's",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="print what would be created; write nothing"
        )

    def handle(self, *args, file, essay, thread, dry_run, **options):
        target = Essay.objects.filter(slug=essay).first()
        if target is None:
            raise CommandError(f"No essay has the slug “{essay}”.")
        try:
            plan = import_plan(read_export(file), target, thread=thread)
        except FileNotFoundError:
            raise CommandError(f"No file at {file}.") from None
        except OSError as error:  # a directory, a file we may not read
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from None
        except ImportFileError as error:
            raise CommandError(str(error)) from error
        self.describe(plan)
        if dry_run:
            self.stdout.write(f"Dry run: {comments(len(plan.comments))} would be created.")
            return
        created = comments_import(plan)
        self.stdout.write(f"Created {comments(len(created))}.")

    def describe(self, plan: ImportPlan) -> None:
        write = self.stdout.write
        write(f"{plan.source.format_name} → essay “{plan.essay.title}” ({plan.essay.slug})")
        for thread in plan.threads:
            title = thread.title or "(untitled)"
            write(f"From “{title}” {thread.link}: {comments(len(thread.comments))} in the file")
        skipped = ", ".join(f"{count} {reason}" for reason, count in sorted(plan.skipped.items()))
        write(f"Already imported: {plan.already_imported}. Skipped: {skipped or 'none'}.")
        threads = sum(1 for planned in plan.comments if not planned.parent_id)
        write(f"New: {comments(len(plan.comments))}, {new_threads(threads)}.")
        write("Per paragraph:")
        for paragraph, count, threads in plan.per_paragraph():
            if paragraph is None:
                place = "the whole essay"
            else:
                excerpt = paragraph.text[:EXCERPT_LENGTH].replace("\n", " ")
                place = f"#p-{paragraph.key} “{excerpt}”"
            write(f"  {place}: {comments(count)}, {new_threads(threads)}")
        write("Per thread:")
        for thread_id, planned in plan.per_thread():
            first = planned[0]
            if first.source.source_id == thread_id:
                date = f"{first.source.created:%Y-%m-%d}" if first.source.created else "undated"
                opener = f"{first.author_name or 'an unnamed reader'}, {date}"
            else:
                opener = f"replies in the thread {thread_id}, imported before"
            write(f"  {thread_id} ({opener}): {comments(len(planned))}")
