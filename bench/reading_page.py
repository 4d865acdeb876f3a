"""Time the reading page and count its queries with the seed's responses, 500 and 5,000
comments (the discussion of bench/fixtures.py), in process.

Run: .venv/bin/python bench/reading_page.py   (uses a throwaway test database)
Not part of the test suite: timings depend on the machine.
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "forum.settings")
os.environ.setdefault("DJANGO_DEBUG", "true")  # a developer's measurement, in development mode

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

settings.ALLOWED_HOSTS = ["testserver"]
setup_test_environment()
old_name = connection.creation.create_test_db(verbosity=0)
try:
    from django.test import Client

    from bench.fixtures import comments_grow, seed_essay
    from forum.discussion.models import Comment

    call_command("load_seed", stdout=open(os.devnull, "w"))  # noqa: SIM115
    essay = seed_essay()
    client = Client()
    url = essay.get_absolute_url()
    for target in (0, 500, 5000):
        # The benchmark's own discussion (bench/fixtures.py), on top of the seed's responses.
        comments_grow(essay, target)
        client.get(url)  # warm up
        times = []
        for _ in range(10):
            start = time.perf_counter()
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
            times.append(time.perf_counter() - start)
        print(
            f"{Comment.objects.count():>5} comments: {len(queries)} queries, "
            f"median {statistics.median(times) * 1000:.1f} ms, {len(response.content) // 1024} KiB"
        )
finally:
    connection.creation.destroy_test_db(old_name, verbosity=0)
