"""gunicorn's configuration for the site (`make serve`, deploy/systemd/margins-web.service).

Every value can be overridden from the environment, so one file serves a laptop and a server.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND") or "127.0.0.1:8000"
# Sync workers: the site's requests are short and CPU-bound (rendering); two per core, plus
# one, keeps the CPUs busy while some workers wait on the database.
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)
worker_class = "sync"
# A request taking longer than this is stuck: the worker is killed and replaced. Long work
# (fan-out, email) runs in the task worker, never in a request.
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 30)
graceful_timeout = 30
keepalive = 5
# Replace each worker now and then: a slow leak in any library never grows for weeks. Rarely:
# at a thousand requests a second, 2,000 meant a restart every two seconds.
max_requests = 20000
max_requests_jitter = 2000
# Load the site once, before the workers fork: a replaced worker answers at once instead of
# importing Django for a second while requests wait (it opens no connection at import).
preload_app = True
# Logs to stdout and stderr: systemd's journal (or the terminal) keeps them.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL") or "info"
# The reader's address as the proxy saw it (X-Forwarded-For), not the proxy's own.
access_log_format = '%({x-forwarded-for}i)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
# The proxy in front (deploy/nginx) is on the same machine: trust its X-Forwarded-* headers.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS") or "127.0.0.1"
proc_name = "margins-web"
# No runtime control socket: systemd manages the process, and two instances on one machine
# would otherwise share one socket path in the user's home.
control_socket_disable = True
