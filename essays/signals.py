"""Events of the essays app, for apps that attach things to paragraphs (comments)."""

from django.dispatch import Signal

# Sent inside the import's transaction with essay=<Essay>, revision=<EssayRevision>,
# changed=<set of paragraph ids whose text changed>, moved=<set of paragraph ids whose order
# changed>, retired=<set of paragraph ids with no successor>, followed=<dict: id of a
# paragraph merged into another (retired, its text now part of that one) -> id of the
# paragraph its discussion follows> and parts=<dict: id of a paragraph split into several ->
# ids of the live paragraphs holding its text, in order (its own successor among them)>.
essay_revised = Signal()
