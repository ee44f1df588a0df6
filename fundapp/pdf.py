"""Every PDF is rendered here: template + context → bytes, fetching nothing from the network or the file
system beyond the app's static files.

WeasyPrint's default fetcher follows any URL a template (or data inside it) names: http(s), ftp, file://
anywhere. `LocalOnlyFetcher` refuses all of those except data: URLs and files under the project's and the
installed apps' static directories. Fonts are not fetched: Pango finds the installed CJK font through
fontconfig and WeasyPrint embeds the glyphs it used (the poster names "Noto Serif CJK SC").

Each thread keeps one WeasyPrint `FontConfiguration` for all the documents it renders (a batch worker renders
hundreds of posters): built per document, as WeasyPrint does by default, it reloads the fontconfig
configuration and reopens the CJK fonts (tens of MB) every time, about 15% of a poster's rendering time.
It is per thread because Pango's font maps are not thread-safe (a worker with a thread pool, a threaded web
server); the templates declare no @font-face, so nothing one document adds leaks into the next.

`PDF_RENDER_CACHE_SIZE` (default 0: off) keeps that many PDFs in memory, keyed by the SHA-256 of their HTML,
and `PDF_RENDER_CACHE_DIR` (default "": off) keeps them as files that several processes share: WeasyPrint
gives the same bytes for the same HTML (the fonts and static files being the same), so a second rendering
of identical HTML returns the first one's bytes; a process that finds another rendering the same HTML (a lock
file beside it) waits for its bytes instead of rendering it too. The test suite turns both on (conftest.py, bin/test): its
chain walks, on both databases and in every worker, render the same papers again and again. Production
leaves them off, so that every paper is rendered as it is asked for and the benchmark measures rendering.
"""
import collections
import fcntl
import hashlib
import os
import threading
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from django.apps import apps
from django.conf import settings
from django.template.loader import render_to_string
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

_thread = threading.local()


class FetchRefused(ValueError):
    pass


@lru_cache(maxsize=1)
def static_roots():
    roots = [Path(entry[1] if isinstance(entry, (list, tuple)) else entry) for entry in settings.STATICFILES_DIRS]
    if settings.STATIC_ROOT:
        roots.append(Path(settings.STATIC_ROOT))
    roots += [Path(config.path) / "static" for config in apps.get_app_configs()]
    return tuple(root.resolve() for root in roots)


def allowed(url):
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme == "data":
        return True
    if scheme != "file":
        return False
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        return False
    path = Path(url2pathname(parts.path)).resolve()
    return path.is_file() and any(path.is_relative_to(root) for root in static_roots())


class LocalOnlyFetcher(URLFetcher):
    def __init__(self, **kwargs):
        super().__init__(allowed_protocols={"data", "file"}, allow_redirects=False, **kwargs)

    def fetch(self, url, headers=None):
        if not allowed(url):
            raise FetchRefused(f"refused to fetch {url[:200]!r}: only data: URLs and the app's static files")
        return super().fetch(url, headers)


def static_base_url():
    base = Path(settings.STATICFILES_DIRS[0]) if settings.STATICFILES_DIRS else Path(settings.BASE_DIR) / "static"
    return base.resolve().as_uri() + "/"


def font_config():
    """This thread's FontConfiguration, made on first use."""
    config = getattr(_thread, "font_config", None)
    if config is None:
        config = _thread.font_config = FontConfiguration()
    return config


_rendered = collections.OrderedDict()  # sha256(html) -> PDF bytes, least recently used first
_rendered_lock = threading.Lock()


def render_pdf(template, context):
    return render_html(render_to_string(template, context))


def render_html(html):
    """The PDF of `html`: rendered here, or the bytes of an identical HTML rendered before (see above)."""
    size = getattr(settings, "PDF_RENDER_CACHE_SIZE", 0)
    folder = getattr(settings, "PDF_RENDER_CACHE_DIR", "")
    if not (size or folder):
        return _render(html)
    key = hashlib.sha256(html.encode()).hexdigest()
    with _rendered_lock:
        data = _rendered.get(key)
        if data is not None:
            _rendered.move_to_end(key)
            return data
    if folder:
        data = _shared_render(html, Path(folder) / f"{key}.pdf")
    else:
        data = _render(html)
    if size:
        with _rendered_lock:
            _rendered[key] = data
            while len(_rendered) > size:
                _rendered.popitem(last=False)
    return data


def _shared_render(html, path):
    """The bytes in `path`, or rendered and written there; one process renders a given HTML at a time (the two
    databases' test runs walk the same chains at the same moment)."""
    if path.is_file():
        return path.read_bytes()
    with open(path.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if path.is_file():  # rendered by another process while this one waited
                return path.read_bytes()
            data = _render(html)
            partial = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.part")
            partial.write_bytes(data)
            os.replace(partial, path)  # a process reading it sees the whole file or none
            return data
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _render(html):
    return HTML(string=html, base_url=static_base_url(), url_fetcher=LocalOnlyFetcher()).write_pdf(
        font_config=font_config())
