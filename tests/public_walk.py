"""Walk the residents' pages as a reader clicking through: every link and form target on every public page
reachable from /public/, in both languages, each answered (a redirect followed once) without a 404 or 500."""
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

LIMIT = 3000  # pages and files: the demo city has a few hundred; a loop in the links must not run for ever


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        elif tag == "link" and attrs.get("rel") == "alternate" and attrs.get("href"):
            self.links.append(attrs["href"])
        elif tag == "form" and attrs.get("action"):
            self.links.append(attrs["action"])


def links_of(html):
    parser = _Links()
    parser.feed(html)
    return parser.links


def walk(client, starts, *, within=("/public/",)):
    """{url: (status, came_from)} for every address reached from `starts`; a redirect is followed (its target
    walked too). Pages under `within` are read for more links; anything else on this site is only answered."""
    seen, queue = {}, [(url, "start") for url in starts]
    while queue:
        url, source = queue.pop(0)
        if url in seen:
            continue
        assert len(seen) < LIMIT, "more public addresses than any demo city has: a loop in the links?"
        response = client.get(url)
        seen[url] = (response.status_code, source)
        if response.status_code in (301, 302):
            queue.append((urljoin(url, response["Location"]), url))
            continue
        if response.status_code != 200 or not response.get("Content-Type", "").startswith("text/html"):
            continue
        if not urlsplit(url).path.startswith(within):
            continue
        for link in links_of(response.content.decode()):
            parts = urlsplit(urljoin(url, link))
            if parts.scheme == "tel":
                continue
            if parts.scheme not in ("", "http") or parts.netloc not in ("", "testserver"):
                continue  # not this site
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if target not in seen:
                queue.append((target, url))
    return seen


def broken(seen):
    return {url: found for url, found in seen.items() if found[0] in (404, 500) or found[0] >= 500}
