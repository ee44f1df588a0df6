"""QR codes for papers: the chain's notices and the year-end disclosure's poster both print one."""
import segno
from django.utils.safestring import mark_safe


def qr_svg(url):
    """The QR code as inline SVG (no image file, nothing to fetch); sized by CSS through its viewBox."""
    return mark_safe(segno.make(url, error="m").svg_inline(scale=1, border=2, omitsize=True, dark="#000"))
