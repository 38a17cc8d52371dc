"""A realistic news site on loopback for crawl benchmarks: real article pages of the sizes news
sites serve (the Zyte benchmark's 181 pages, /work/shared/data/aeb), copied until there are N,
each copy made unique (its own title, URL and a paragraph of its own) so no two are duplicates,
listed in a feed; served by a separate process (Python's threading HTTP server) so the crawler
being measured has the machine's cores to itself apart from serving."""

from __future__ import annotations

import gzip
import random
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


def build(root: Path, count: int, *, seed: int = 1) -> list[str]:
    """Write ``count`` unique article pages, feed.xml and robots.txt under ``root``; their paths."""
    rng = random.Random(seed)
    originals = pages_of_benchmark()
    paths = []
    for i in range(count):
        html = originals[i % len(originals)]
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
