"""A real paginated JSON API on 127.0.0.1 for the http source's tests.

Each server runs ``http.server`` in a thread and serves customer records in one
of several behaviours: normal page-number or next-link pagination, a transient
503, malformed JSON, or no answer at all. Traffic stays on the loopback address.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Api:
    """What the server serves and how it misbehaves."""

    records: list[dict]
    page_size: int = 100
    #: "page" (?page=N, empty page at the end), "next" (a next link), "link" (Link header)
    style: str = "page"
    #: Answer 503 to the first ``fail_first`` requests, then serve normally.
    fail_first: int = 0
    #: Serve this page number as malformed JSON.
    malformed_page: int | None = None
    #: Never answer (hold the connection until the test ends).
    silent: bool = False
    #: Required ``Authorization`` header value (401 otherwise).
    token: str | None = None
    requests: list[str] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)


def _handler(api: Api) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # keep the test output quiet
            pass

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            api.requests.append(self.path)
            if api.silent:
                api.release.wait(timeout=30)  # bounded: the test releases it on teardown
                return
            if len(api.requests) <= api.fail_first:
                self._send(503, b'{"error": "try again"}')
                return
            if api.token and self.headers.get("Authorization") != f"Bearer {api.token}":
                self._send(401, b'{"error": "unauthorized"}')
                return
            query = parse_qs(urlsplit(self.path).query)
            key = "page" if api.style == "page" else "cursor"
            page = int(query.get(key, ["1"])[0])
            if page == api.malformed_page:
                self._send(200, b'{"data": [{"customerID": "0001-AAAAA", ')
                return
            start = (page - 1) * api.page_size
            chunk = api.records[start : start + api.page_size]
            more = start + api.page_size < len(api.records)
            if api.style == "page":
                self._send(200, json.dumps({"data": chunk, "page": page}).encode())
            elif api.style == "next":
                following = f"/customers?cursor={page + 1}" if more else None
                body = {"results": {"items": chunk}, "links": {"next": following}}
                self._send(200, json.dumps(body).encode())
            else:
                headers = {"Link": f'</customers?cursor={page + 1}>; rel="next"'} if more else {}
                self._send(200, json.dumps(chunk).encode(), headers)

    return Handler


@contextmanager
def serve(api: Api) -> Iterator[str]:
    """Serve ``api`` on a free port of 127.0.0.1; yield its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        api.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
