"""A static file server for the built site, on 127.0.0.1, in a thread: what a static host does.

The browser tests serve `site/` with it; tools/lighthouse.py serves it gzipped (`gzip=True`), as
GitHub Pages would, so Lighthouse measures transfer sizes a reader would see. The site is served
under `base` (site_url's path, as GitHub Pages serves a project site); directory URLs serve their
index.html (and redirect without the trailing slash); a missing file gets 404.html with status 404;
nothing is logged.

    python tests/browser/static_server.py site --gzip --port 8123
"""

from __future__ import annotations

import argparse
import gzip as gzip_module
import mimetypes
import threading
from functools import partial
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".xml": "application/xml",
    ".txt": "text/plain; charset=utf-8",
    ".ipynb": "application/json",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".ttf": "font/ttf",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".map": "application/json",
}
COMPRESSIBLE = ("text/", "application/json", "application/xml", "image/svg+xml", "font/ttf")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def __init__(self, *args, root: Path, base: str, gzip: bool, cache: dict, **kwargs):
        self.root, self.base, self.gzip, self.cache = root, base, gzip, cache
        super().__init__(*args, **kwargs)

    def log_message(self, format, *args):
        pass

    def do_HEAD(self):
        self.respond(body=False)

    def do_GET(self):
        self.respond(body=True)

    def resolve(self, url_path: str) -> Path | None:
        """The file a URL path names, or None; never a path outside the root."""
        if not url_path.startswith(self.base):
            return None
        path = (self.root / unquote(url_path[len(self.base):])).resolve()
        if not path.is_relative_to(self.root):
            return None
        if path.is_dir():
            path = path / "index.html"
        return path if path.is_file() else None

    def respond(self, body: bool):
        url_path = urlsplit(self.path).path
        directory = url_path + "/" == self.base or (
            url_path.startswith(self.base) and (self.root / unquote(url_path[len(self.base):])).is_dir())
        if not url_path.endswith("/") and directory:
            self.send_response(HTTPStatus.MOVED_PERMANENTLY)
            self.send_header("Location", url_path + "/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        status, path = HTTPStatus.OK, self.resolve(url_path)
        if path is None:
            status, path = HTTPStatus.NOT_FOUND, self.root / "404.html"
        if path.is_file():
            ctype = TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            data, encoded = self.content(path, ctype)
        else:
            ctype, data, encoded = "text/plain; charset=utf-8", b"404 Not Found\n", False
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "max-age=600")  # GitHub Pages' value
        if self.gzip:
            self.send_header("Vary", "Accept-Encoding")
        if encoded:
            self.send_header("Content-Encoding", "gzip")
        self.end_headers()
        if body:
            self.wfile.write(data)

    def content(self, path: Path, ctype: str) -> tuple[bytes, bool]:
        accepts = "gzip" in self.headers.get("Accept-Encoding", "")
        if not (self.gzip and accepts and ctype.startswith(COMPRESSIBLE)):
            return path.read_bytes(), False
        key = (path, path.stat().st_mtime_ns)
        if key not in self.cache:
            self.cache[key] = gzip_module.compress(path.read_bytes(), compresslevel=9, mtime=0)
        return self.cache[key], True


class StaticServer:
    """`with StaticServer("site") as server: server.url` serves the directory until the block ends."""

    def __init__(self, root, port: int = 0, gzip: bool = False, base: str = "/"):
        self.root = Path(root).resolve()
        self.base = "/" + base.strip("/") + "/" if base.strip("/") else "/"
        if not (self.root / "index.html").is_file():
            raise FileNotFoundError(f"{self.root} has no index.html: build the site first")
        handler = partial(Handler, root=self.root, base=self.base, gzip=gzip, cache={})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}{self.base}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="static-server", daemon=True)

    def __enter__(self) -> StaticServer:
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", default="site")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--gzip", action="store_true")
    parser.add_argument("--base", default="/", help="the path the site is published under (site_url's path)")
    args = parser.parse_args()
    with StaticServer(args.root, args.port, args.gzip, args.base) as server:
        print(f"serving {server.root} at {server.url} (gzip {'on' if args.gzip else 'off'}); Ctrl-C stops")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
