"""Weight of the public home page: every byte a browser transfers to show ``/`` (target < 300 KB).

Creates a scratch database, migrates it, seeds a small demo utility (``okno seed``: company, branches,
news and outages as the demo has them), starts `okno serve` (gunicorn, ``OKNO_ENV=production``:
WhiteNoise serves the hashed static files compressed) on loopback, then fetches the page as a browser
would: the HTML, then every resource it loads — stylesheets, scripts, images (``src``/``srcset``),
icons, preloads, ``<video poster>`` — and whatever those stylesheets load in turn (``@import``,
``url(…)``: fonts, images), each once; ``/favicon.ico`` too when the page declares no icon, since a
browser asks for it anyway. Bytes are counted as transferred (status line, headers and body as sent)
with the browser's ``Accept-Encoding: gzip, deflate, br``, and again uncompressed. A resource on another
origin is listed and counted as a failure of the page (the site must load nothing from elsewhere).

    .venv/bin/python bench/bench_home.py [--path / --path /cabinet/login/] [--url http://127.0.0.1:8000]
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass
from html.parser import HTMLParser
from http.client import HTTPConnection
from typing import Any
from urllib.parse import urljoin, urlsplit

from common import ROOT, write_result

PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB = "okno_bench_home"
LOG = tempfile.TemporaryFile()  # noqa: SIM115  # the server's output for the whole run, shown when it fails
PORT = 8781
TARGET_KB = 300
BROWSER_ENCODINGS = "gzip, deflate, br"


def log_tail(lines: int = 30) -> str:
    LOG.seek(0)
    return "\n".join(LOG.read().decode("utf-8", "replace").splitlines()[-lines:])


def psql(sql: str, db: str = "postgres") -> None:
    subprocess.run(["psql", f"{PG}/{db}", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql], check=True)


@dataclass
class Fetched:
    url: str
    kind: str
    status: int
    content_type: str
    encoding: str
    wire_bytes: int  # status line + headers + body as sent
    body_bytes: int  # the body as sent (compressed when the server compressed it)
    plain_bytes: int  # the body uncompressed
    text: str


def fetch(url: str, kind: str, accept_encoding: str) -> Fetched:
    parts = urlsplit(url)
    conn = HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=30)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    conn.request(
        "GET",
        path,
        headers={
            "Accept-Encoding": accept_encoding,
            "Accept-Language": "ru",
            "Accept": "text/html,*/*",
            "User-Agent": "okno-bench-home",
        },
    )
    response = conn.getresponse()
    body = response.read()
    conn.close()
    head = f"HTTP/1.1 {response.status} {response.reason}\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in response.getheaders()
    )
    encoding = (response.getheader("Content-Encoding") or "").strip().lower()
    plain = decode(body, encoding)
    content_type = response.getheader("Content-Type") or ""
    text = plain.decode("utf-8", "replace") if ("text/" in content_type or "css" in content_type) else ""
    return Fetched(
        url=url,
        kind=kind,
        status=response.status,
        content_type=content_type.split(";")[0],
        encoding=encoding or "identity",
        wire_bytes=len(head.encode("latin-1", "replace")) + 2 + len(body),
        body_bytes=len(body),
        plain_bytes=len(plain),
        text=text,
    )


def decode(body: bytes, encoding: str) -> bytes:
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    if encoding == "br":
        import brotli

        return bytes(brotli.decompress(body))
    return body


class ResourceParser(HTMLParser):
    """The URLs an HTML page makes a browser load, with what they are."""

    LINK_RELS = {
        "stylesheet": "css",
        "icon": "icon",
        "shortcut": "icon",
        "preload": "preload",
        "modulepreload": "script",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str]] = []
        self.has_icon = False
        self.inline_styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "link":
            rels = set(a.get("rel", "").lower().split())
            for rel, kind in self.LINK_RELS.items():
                if rel in rels and a.get("href"):
                    self.found.append((a["href"], kind))
                    self.has_icon |= kind == "icon"
                    break
        elif tag in ("script", "iframe", "embed") and a.get("src"):
            self.found.append((a["src"], "script" if tag == "script" else tag))
        elif tag in ("img", "input", "source", "video", "audio", "object"):
            src = a.get("src") or a.get("data") or a.get("poster")
            if tag == "input" and a.get("type", "").lower() != "image":
                src = ""
            if src:
                self.found.append((src, "image" if tag in ("img", "input", "video") else tag))
            elif a.get("srcset"):  # the first candidate, as a browser without a better match takes
                self.found.append((a["srcset"].split(",")[0].strip().split()[0], "image"))
        if a.get("style"):
            self.inline_styles.append(a["style"])
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.inline_styles.append(data)


CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)|@import\s+(['"])([^'"]+)\3""", re.IGNORECASE)


def css_urls(css: str) -> list[tuple[str, str]]:
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    out = []
    for m in CSS_URL.finditer(css):
        url = (m.group(2) or m.group(4) or "").strip()
        if url and not url.startswith(("data:", "#")):
            kind = "css" if m.group(4) or url.split("?")[0].endswith(".css") else "css-asset"
            out.append((url, kind))
    return out


def weigh(base: str, path: str) -> dict[str, Any]:
    """Everything a browser loads to show ``path``, transferred and uncompressed."""
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(base))
    page_url = urljoin(base, path)
    seen: set[str] = set()
    fetched: list[Fetched] = []
    plain_sizes: dict[str, int] = {}
    external: list[str] = []
    queue: list[tuple[str, str]] = [(page_url, "html")]
    while queue:
        url, kind = queue.pop(0)
        url = url.split("#")[0]
        if url in seen:
            continue
        seen.add(url)
        if "{0.scheme}://{0.netloc}".format(urlsplit(url)) != origin:
            external.append(url)
            continue
        got = fetch(url, kind, BROWSER_ENCODINGS)
        plain_sizes[url] = fetch(url, kind, "identity").wire_bytes
        fetched.append(got)
        if kind == "html":
            parser = ResourceParser()
            parser.feed(got.text)
            # A data: URL (the inline favicon) is part of the HTML already counted, not a request.
            queue += [(urljoin(url, u), k) for u, k in parser.found if not u.startswith("data:")]
            for style in parser.inline_styles:
                queue += [(urljoin(url, u), k) for u, k in css_urls(style)]
            if not parser.has_icon:
                queue.append((urljoin(url, "/favicon.ico"), "favicon"))
        elif got.content_type == "text/css":
            queue += [(urljoin(url, u), k) for u, k in css_urls(got.text)]
    wire = sum(f.wire_bytes for f in fetched)
    failed = [f.url for f in fetched if f.status >= 400 and f.kind != "favicon"]
    return {
        "path": path,
        "status": fetched[0].status,
        "resources": [
            {
                "url": f.url.removeprefix(origin),
                "kind": f.kind,
                "status": f.status,
                "type": f.content_type,
                "encoding": f.encoding,
                "transferred_bytes": f.wire_bytes,
                "uncompressed_bytes": f.plain_bytes,
            }
            for f in fetched
        ],
        "requests": len(fetched),
        "transferred_kb": round(wire / 1024, 1),
        "uncompressed_transferred_kb": round(sum(plain_sizes.values()) / 1024, 1),
        "html_kb": round(fetched[0].wire_bytes / 1024, 1),
        "external_resources": external,
        "failed_resources": failed,
        "met": fetched[0].status == 200 and wire < TARGET_KB * 1024 and not external and not failed,
    }


def serve_scratch() -> tuple[subprocess.Popen, str]:
    """A scratch database with a seeded demo utility and `okno serve` on it; (server, static root)."""
    static_root = tempfile.mkdtemp(prefix="okno-bench-static-")
    env = {
        **os.environ,
        "DATABASE_URL": f"{PG}/{DB}",
        "OKNO_ENV": "production",
        "SECRET_KEY": "bench-home-not-a-secret-0123456789-abcdefghijklmnopqrstuvwxyz",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "STATIC_ROOT": static_root,
        "DJANGO_SETTINGS_MODULE": "okno.settings",
    }
    psql(f"DROP DATABASE IF EXISTS {DB}")
    psql(f"CREATE DATABASE {DB}")
    for args in (
        ["migrate", "--no-input", "-v", "0"],
        ["seed", "--accounts", "200", "--appeals", "50", "--seed", "3"],
    ):
        subprocess.run(
            [sys.executable, "-m", "okno.cli", *args],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "okno.cli",
            "serve",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            "2",
            "--no-worker",
        ],
        cwd=ROOT,
        env=env,
        stdout=LOG,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            stop(server, static_root)
            raise SystemExit(f"okno serve exited with {server.returncode}:\n{log_tail()}")
        try:
            fetch(f"http://127.0.0.1:{PORT}/", "html", "identity")
            return server, static_root
        except OSError:
            time.sleep(0.3)
    stop(server, static_root)
    raise SystemExit("okno serve did not answer within 120 s")


def stop(server: subprocess.Popen, static_root: str) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, 9)
            server.wait()
    subprocess.run(["rm", "-rf", static_root], check=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", help="an already running server (default: a scratch one on loopback)")
    parser.add_argument(
        "--path", action="append", help="page(s) to weigh; the first is the one with the target (default /)"
    )
    parser.add_argument("--keep-db", action="store_true", help=f"leave {DB} in place")
    args = parser.parse_args()
    paths = args.path or ["/"]
    server = None
    if args.url:
        base = args.url.rstrip("/") + "/"
    else:
        try:
            server, static_root = serve_scratch()
        except BaseException:
            psql(f"DROP DATABASE IF EXISTS {DB}")
            raise
        base = f"http://127.0.0.1:{PORT}/"
    try:
        pages = [weigh(base, p) for p in paths]
    finally:
        if server is not None:
            stop(server, static_root)
            if not args.keep_db:
                psql(f"DROP DATABASE IF EXISTS {DB}")
    for page in pages:
        print(
            f"{page['path']}: {page['status']}, {page['requests']} requests, {page['transferred_kb']} KB transferred"
        )
        for r in page["resources"]:
            print(
                f"  {r['status']} {r['transferred_bytes']:>8} B  {r['encoding']:<8} {r['kind']:<9} {r['url']}"
            )
    home = pages[0]
    write_result(
        "home_page",
        {
            "server": "okno serve (gunicorn), OKNO_ENV=production (WhiteNoise, compressed hashed static files), loopback",
            "data": "okno seed --accounts 200 --appeals 50 --seed 3" if not args.url else args.url,
            "accept_encoding": BROWSER_ENCODINGS,
            "page": home,
            **({"other_pages": pages[1:]} if len(pages) > 1 else {}),
            "target": {"transferred_kb": TARGET_KB, "what": "HTML + every resource it loads, as transferred"},
            "met": home["met"],
        },
    )


if __name__ == "__main__":
    main()
