"""Gunicorn's configuration for the web process (deploy/systemd/fund-web.service starts it with -c this file).

Every value can be changed in the environment file (/etc/fund/fund.env) without editing this file:
  GUNICORN_BIND         where gunicorn listens; default 127.0.0.1:8000 (nginx on the same machine proxies to it).
                        A unix socket: unix:/run/fund/gunicorn.sock (then set FUND_UPSTREAM for nginx to match).
  GUNICORN_WORKERS      worker processes; default 2 per core + 1, at most 12 (each holds a database connection).
  GUNICORN_TIMEOUT      seconds before a silent worker is killed and restarted; default 120 (a year-end PDF is
                        generated in the worker; the batches run in Celery).
  FORWARDED_ALLOW_IPS   the proxies whose X-Forwarded-Proto gunicorn believes (comma-separated); default 127.0.0.1.
                        The same addresses as the app's list of trusted proxies.
  GUNICORN_ACCESS_LOG   "-" (the journal, default) or a file such as /var/log/fund/access.log.
"""
import multiprocessing
import os

bind = [os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")]
workers = int(os.environ.get("GUNICORN_WORKERS") or min(2 * multiprocessing.cpu_count() + 1, 12))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30
keepalive = 5
# A worker is replaced after this many requests (a slow leak in a library cannot grow without bound).
max_requests = 2000
max_requests_jitter = 200
# Behind nginx only: nginx overwrites X-Forwarded-For and sets X-Forwarded-Proto; nobody else is believed.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
proxy_allow_ips = forwarded_allow_ips

accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# The path without its query string (%(U)s, never %(r)s or %(q)s: a search or a form sent by GET may carry a
# resident's name or phone number), no referrer (it carries the previous page's query), the client address
# as nginx saw it (X-Forwarded-For, overwritten by nginx), status, bytes and the time taken in seconds.
access_log_format = '%({x-forwarded-for}i)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(L)s "%(a)s"'
# Not in the process list: the command line is visible to every user of the machine.
proc_name = "fund-web"
# The app is imported in each worker (not preloaded): a restart with `systemctl reload fund-web` (HUP)
# picks up a new release without dropping requests.
preload_app = False
