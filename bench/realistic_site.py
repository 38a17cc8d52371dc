"""A realistic news site on loopback for crawl benchmarks: real article pages of the sizes news
sites serve (the Zyte benchmark's 181 pages, /work/shared/data/aeb), copied until there are N,
each copy made unique (its own title, URL and text, the page's template kept) so no two are duplicates,
listed in a feed; served by a separate process (Python's threading HTTP server) so the crawler
being measured has the machine's cores to itself apart from serving."""

from __future__ import annotations

import gzip
import random
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

AEB = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "aeb" / "html"
WORDS = "news report city council budget vote minister weather sport market river school".split()


def pages_of_benchmark() -> list[str]:
    files = sorted(AEB.glob("*.html.gz"))
    if not files:
        sys.exit(f"no benchmark pages in {AEB}")
    return [gzip.decompress(f.read_bytes()).decode("utf-8", "replace") for f in files]


PARAGRAPH = re.compile(r"(<p\b[^>]*>)([^<]{80,})(</p>)")


def build(root: Path, count: int, *, seed: int = 1, near_copies: bool = False) -> list[str]:
    """Write ``count`` unique article pages, feed.xml and robots.txt under ``root``; their paths.

    The first round is the benchmark's pages as they are. A later copy of a page keeps its
    template (the site's furniture) and gets a text of its own: each paragraph's words redrawn
    from the benchmark's vocabulary, lengths kept, as another article of the same site would be.
    ``near_copies``: copies differ only by their title and one added paragraph (near-duplicates
    of each other, which the archive links as such and whose shared lines it learns as furniture)."""
    rng = random.Random(seed)
    originals = pages_of_benchmark()
    vocabulary = [w for html in originals for m in PARAGRAPH.finditer(html) for w in m.group(2).split()]
    paths = []
    for i in range(count):
        html = originals[i % len(originals)]
        if i >= len(originals) and not near_copies:
            html = PARAGRAPH.sub(lambda m: m.group(1) + " ".join(rng.choices(vocabulary, k=len(m.group(2).split())))
                                 + m.group(3), html)
        unique = " ".join(rng.choices(WORDS, k=40))
        html = html.replace("<title>", f"<title>Copy {i}: ", 1)
        html = html.replace("</body>", f"<p>Copy {i} of this page, unique: {unique} {rng.random()}.</p></body>", 1)
        path = f"/{2000 + i % 25}/{1 + i % 12:02d}/{1 + i % 28:02d}/article-{i}/"
        folder = root / path.strip("/")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "index.html").write_text(html, "utf-8")
        paths.append(path)
    (root / "robots.txt").write_text("User-agent: *\nAllow: /\n")
    return paths


def write_feed(root: Path, base: str, paths: list[str]) -> str:
    items = "".join(f"<item><title>{p}</title><link>{base}{p}</link></item>" for p in paths)
    (root / "feed.xml").write_text(f'<?xml version="1.0"?><rss version="2.0"><channel><title>Bench</title>'
                                   f"{items}</channel></rss>", "utf-8")
    return f"{base}/feed.xml"


class Served:
    """``root`` served on a loopback port by its own process."""

    def __init__(self, root: Path, port: int):
        self.base = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                                      "--directory", str(root)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.base + "/robots.txt", timeout=1).read()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the benchmark site did not start")

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait()
