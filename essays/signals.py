"""Events of the essays app, for apps that attach things to paragraphs (comments)."""

from django.dispatch import Signal

# Sent inside the import's transaction with essay=<Essay>, revision=<EssayRevision>,
# changed=<set of paragraph ids whose text changed>, moved=<set of paragraph ids whose order
# changed> and retired=<set of paragraph ids with no successor>.
essay_revised = Signal()
