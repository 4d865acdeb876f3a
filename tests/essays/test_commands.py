import io

import pytest
from django.core.management import CommandError, call_command

from essays.models import Essay
from tests.conftest import SEED_SOURCE


@pytest.mark.django_db
def test_import_essay_command_creates_then_reports_unchanged():
    out = io.StringIO()
    call_command("import_essay", str(SEED_SOURCE), stdout=out)
    call_command("import_essay", str(SEED_SOURCE), stdout=out)
    assert "created with 53 blocks" in out.getvalue()
    assert "unchanged" in out.getvalue()
    assert Essay.objects.count() == 1


@pytest.mark.django_db
def test_import_essay_command_reports_unreadable_and_malformed_files(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_essay", str(tmp_path / "missing.md"))
    bad = tmp_path / "bad.md"
    bad.write_text("no front matter", encoding="utf-8")
    with pytest.raises(CommandError, match="front matter"):
        call_command("import_essay", str(bad))


@pytest.mark.django_db
def test_load_seed_is_idempotent(seeded_essay):
    call_command("load_seed", stdout=io.StringIO())
    assert Essay.objects.count() == 1
    assert seeded_essay.comments.count() == 2
    assert seeded_essay.paragraphs.count() == 53
