"""The site's settings (forum/settings.py: production, as DJANGO_DEBUG is unset), with what a
benchmark on loopback must change, and nothing else:

- collected static files go to the run's own folder (BENCH_STATIC_ROOT), not the checkout's;
- a member may post as fast as the posting benchmark asks: COMMENT_RATE_LIMITS is a list in
  the settings, not a variable of the environment.
"""

import os
from pathlib import Path

from forum.settings import *  # noqa: F403
from forum.settings import STATIC_ROOT

STATIC_ROOT = Path(os.environ.get("BENCH_STATIC_ROOT") or STATIC_ROOT)
COMMENT_RATE_LIMITS = [(1_000_000, 60)]
