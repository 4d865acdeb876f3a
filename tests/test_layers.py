"""The layers of DESIGN.md, held for code and for templates.

essays at the bottom; discussion on essays; moderation and subscriptions on discussion (and
not on each other); accounts on top. The project's own templates (base.html, includes/,
the error pages, and allauth's pages restyled) sit above every app and may name any of
them. Signing in is infrastructure, as Django's auth is: any page may link to allauth's
login and sign-up (URL names account_*); `accounts:` is our own top layer.
"""

import re
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
TEMPLATES = PROJECT / "templates"

# Layer of each app, and of the template folders and URL namespaces that belong to it.
LAYERS = {"essays": 0, "discussion": 1, "moderation": 2, "subscriptions": 2, "accounts": 3}
URL_NAME = re.compile(r"""\{%\s*url\s+['"](\w+):""")
INCLUDE = re.compile(r"""\{%\s*(?:include|extends)\s+['"](\w+)/""")
LOAD = re.compile(r"""\{%\s*load\s+([\w\s]+?)\s*%\}""")


def owner(name: str) -> str | None:
    return name if name in LAYERS else None


def may_use(user: str, used: str) -> bool:
    """A layer uses only layers below it, or itself."""
    return used == user or LAYERS[used] < LAYERS[user]


def references(text: str):
    for match in URL_NAME.finditer(text):
        yield "url", match.group(1)
    for match in INCLUDE.finditer(text):
        yield "template", match.group(1)
    for match in LOAD.finditer(text):
        for library in match.group(1).split():
            if library.endswith("_tags"):
                yield "tag library", library.removesuffix("_tags")


def test_code_keeps_the_layers():
    """import-linter's contract in pyproject.toml (also run by `make lint`)."""
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=PROJECT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_templates_keep_the_layers():
    """A template of one app names (by URL, include or tag library) only its own app and
    the apps below it: the discussion's pages get moderation's and subscriptions' controls
    through forum/discussion/hooks.py, not by naming them."""
    crossings = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        folder = path.relative_to(TEMPLATES).parts[0]
        user = owner(folder)
        if user is None:
            continue  # the project's own templates sit above every app
        for kind, used in references(path.read_text()):
            used_app = owner(used)
            if used_app is not None and not may_use(user, used_app):
                crossings.append(f"{path.relative_to(PROJECT)} uses {kind} of {used_app}")
    assert crossings == []


def test_the_template_check_sees_a_crossing():
    """The check above can fail: a discussion template naming moderation is a crossing."""
    found = list(
        references("""{% url 'moderation:report' pk=1 %}{% include "subscriptions/x.html" %}""")
    )
    assert ("url", "moderation") in found and ("template", "subscriptions") in found
    assert not may_use("discussion", "moderation")
    assert not may_use("moderation", "subscriptions")
    assert may_use("accounts", "discussion")
