import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import ngettext

from forum.accounts.discussion_export import (
    DiscussionFileError,
    DiscussionRestore,
    discussion_import,
)


class Command(BaseCommand):
    help = (
        "Restore an essay and its discussion from a file export_discussion wrote, on a site "
        "where that essay does not exist: all of it, or nothing. Says which accounts here "
        "the file's members were matched to."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="check the whole file and say what it would restore; write nothing",
        )

    def handle(self, *args, path: Path, dry_run: bool, **options):
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}.") from error
        except UnicodeDecodeError as error:
            raise CommandError(f"{path} is not UTF-8 text.") from error
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            raise CommandError(
                f"{path} is not JSON (line {error.lineno}, column {error.colno}: {error.msg})."
            ) from error
        try:
            result = discussion_import(document, dry_run=dry_run)
        except DiscussionFileError as error:
            raise CommandError(f"{path}: {error}") from error
        self.describe(result)

    def describe(self, result: DiscussionRestore) -> None:
        write = self.stdout.write
        essay = result.essay
        counted = "; ".join(f"{name}: {count}" for name, count in result.counts.items())
        if result.dry_run:
            write(f"Dry run: essay “{essay.title}” ({essay.slug}) would be restored: {counted}.")
        else:
            write(f"Essay “{essay.title}” ({essay.slug}) restored: {counted}.")
        if result.matched:
            # The file decides what these accounts wrote, reported and decided: the owner
            # checks that each address is the same person here before trusting the file.
            write(
                ngettext(
                    "%(count)d member of the file is an account of this site already, and "
                    "what the file says they did is now theirs:",
                    "%(count)d members of the file are accounts of this site already, and "
                    "what the file says they did is now theirs:",
                    len(result.matched),
                )
                % {"count": len(result.matched)}
            )
            for email, account in result.matched:
                roles = [
                    role
                    for role, held in (
                        ("superuser", account.is_superuser),
                        ("staff", account.is_staff),
                        ("deactivated", not account.is_active),
                    )
                    if held
                ]
                write(
                    f"  {email} → account {account.pk}, {account.email} "
                    f"(“{account.display_name}”{''.join(f', {role}' for role in roles)})"
                )
        else:
            write("No member of the file has an account here yet.")
        # A file this site wrote has neither: say so when a file was altered (or comes
        # from a version of the site that renders otherwise).
        if result.rerendered:
            write(
                ngettext(
                    "Warning: %(count)d block of essay HTML in the file was not what its "
                    "Markdown source renders: the source's rendering was stored.",
                    "Warning: %(count)d blocks of essay HTML in the file were not what their "
                    "Markdown source renders: the source's rendering was stored.",
                    result.rerendered,
                )
                % {"count": result.rerendered}
            )
        if result.sanitized:
            write(
                ngettext(
                    "Warning: %(count)d comment text in the file held HTML the sanitizer "
                    "removes: the sanitized text was stored.",
                    "Warning: %(count)d comment texts in the file held HTML the sanitizer "
                    "removes: the sanitized texts were stored.",
                    result.sanitized,
                )
                % {"count": result.sanitized}
            )
