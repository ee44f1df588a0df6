"""fundapp.pdf's memo of rendered papers: identical HTML gives WeasyPrint's same bytes, so a second rendering
returns the first one's (in memory, or from a directory several processes share); off unless configured."""
import hashlib

from fundapp import pdf

HTML = "<html><body><h1>社区公示</h1><p>幸福社区 2026年12月2日</p></body></html>"


def test_weasyprint_gives_the_same_bytes_for_the_same_html():
    assert pdf._render(HTML) == pdf._render(HTML)


def test_a_shared_directory_serves_the_second_rendering(settings, tmp_path):
    settings.PDF_RENDER_CACHE_SIZE, settings.PDF_RENDER_CACHE_DIR = 0, str(tmp_path)
    first = pdf.render_html(HTML)
    stored = tmp_path / f"{hashlib.sha256(HTML.encode()).hexdigest()}.pdf"
    assert first.startswith(b"%PDF") and stored.read_bytes() == first
    assert not list(tmp_path.glob("*.part"))
    stored.write_bytes(b"%PDF from the shared directory")  # what another process rendered
    assert pdf.render_html(HTML) == b"%PDF from the shared directory"
    assert pdf.render_html(HTML.replace("12月2日", "12月3日")) != first  # other HTML, another rendering


def test_memory_keeps_the_latest_and_off_renders_every_time(settings, tmp_path):
    settings.PDF_RENDER_CACHE_SIZE, settings.PDF_RENDER_CACHE_DIR = 2, ""
    pdf._rendered.clear()
    first = pdf.render_html(HTML)
    assert pdf.render_html(HTML) is first
    pdf.render_html(HTML + " ")
    pdf.render_html(HTML + "  ")  # two newer ones: the first is dropped
    assert hashlib.sha256(HTML.encode()).hexdigest() not in pdf._rendered
    settings.PDF_RENDER_CACHE_SIZE = 0
    assert pdf.render_html(HTML) is not pdf.render_html(HTML)
    assert not list(tmp_path.iterdir())


def test_the_same_html_asked_at_once_is_rendered_once(settings, tmp_path, monkeypatch):
    """Two renderers (threads here; the test runs' processes alike: the lock is a file lock) asking for the
    same new HTML at the same moment: one renders, the other waits and reads its bytes."""
    import threading

    settings.PDF_RENDER_CACHE_SIZE, settings.PDF_RENDER_CACHE_DIR = 0, str(tmp_path)
    renders, real_render = [], pdf._render

    def counted(html):
        renders.append(html)
        return real_render(html)

    monkeypatch.setattr(pdf, "_render", counted)
    results = []
    threads = [threading.Thread(target=lambda: results.append(pdf.render_html(HTML))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(results) == 3 and len(set(results)) == 1 and results[0].startswith(b"%PDF")
    assert len(renders) == 1
