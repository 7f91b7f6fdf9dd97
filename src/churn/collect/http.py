"""A paginated JSON API, read page by page with timeouts and retries with backoff.

Retries are urllib3's ``Retry`` (connection errors, timeouts, 429 and 5xx
answers, exponential backoff, ``Retry-After`` honoured) mounted on a requests
session. Each page becomes one record batch of text, so memory is bounded by
a page. Lineage: the file is ``http:<url as written in params>#page=N`` (no
credentials: values from the environment are not substituted there), the line
is the record's position in its page (from 1).

requests is imported only when an API is read: collecting a file does not pay for it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urljoin

import pyarrow as pa
from pydantic import Field, model_validator

from churn.collect.base import Source, with_lineage
from churn.collect.credentials import (
    from_environment,
    http_label,
    masked_logs,
    redact,
    reject_literal_password,
    reject_literal_secret_headers,
    url_secrets,
)
from churn.core.errors import DataError

if TYPE_CHECKING:
    import requests

RETRY_STATUSES = (429, 500, 502, 503, 504)


class HttpSource(Source):
    """A paginated JSON API, read page by page with timeouts and retries."""

    kind: Literal["http"]
    #: The first page's URL; ``${VAR}`` is replaced by environment variable VAR.
    url: str
    #: Request headers; values may reference ``${VAR}`` (e.g. ``Bearer ${CHURN_API_TOKEN}``).
    headers: dict[str, str] = Field(default_factory=dict)
    #: Dotted key of the list of records in a page ("" when the page is the list itself).
    records: str = "data"
    #: ``page``: add ``page_param=N`` (N from ``first_page``) until a page has no records;
    #: ``next``: follow the URL under the dotted key ``next_key`` until it is null or absent;
    #: ``link``: follow the ``Link: <...>; rel="next"`` response header.
    pagination: Literal["page", "next", "link"] = "page"
    page_param: str = "page"
    first_page: int = 1
    #: Extra query parameters sent with every page request (e.g. a page size).
    query: dict[str, str | int] = Field(default_factory=dict)
    next_key: str = "next"
    max_pages: int = Field(default=100_000, gt=0)
    #: Seconds to connect and to wait for each response.
    connect_timeout: float = Field(default=10.0, gt=0)
    read_timeout: float = Field(default=60.0, gt=0)
    #: Retries of a failed request (connection error, timeout, 429 or 5xx) with
    #: exponential backoff: backoff_factor * 2**(retry - 1) seconds between tries.
    retries: int = Field(default=5, ge=0)
    backoff_factor: float = Field(default=0.5, ge=0)

    @model_validator(mode="after")
    def _no_literal_credentials(self) -> HttpSource:
        reject_literal_password(self.url)
        reject_literal_secret_headers(self.headers)
        return self

    def describe(self) -> str:
        return http_label(self.url)

    def blocks(self, root: Path) -> Iterator[pa.RecordBatch]:
        return iter_http(self)


def session_for(source: HttpSource) -> requests.Session:
    """A session whose every request is retried with exponential backoff."""
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    retry = Retry(
        total=source.retries,
        connect=source.retries,
        read=source.retries,
        status=source.retries,
        backoff_factor=source.backoff_factor,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET"}),
        respect_retry_after_header=True,
        raise_on_status=True,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _dig(payload: Any, dotted: str) -> Any:
    """``payload['a']['b']`` for ``dotted == 'a.b'``; KeyError when a key is absent."""
    node = payload
    for key in dotted.split(".") if dotted else []:
        if not isinstance(node, dict) or key not in node:
            raise KeyError(key)
        node = node[key]
    return node


def _text(value: Any) -> str:
    """A JSON value as the text a CSV export would hold (null becomes a blank)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


class _Pages:
    """Fetches pages, turning every failure into a clear, credential-free error."""

    def __init__(self, source: HttpSource) -> None:
        self.source = source
        url = from_environment(source.url, "collect.source.url")
        self.headers = {
            name: from_environment(value, f"collect.source.headers.{name}")
            for name, value in source.headers.items()
        }
        self.secrets = [*url.secrets, *url_secrets(url)]
        for value in self.headers.values():
            self.secrets += value.secrets
        self.first_url = str(url)
        self.base = http_label(source.url)
        self.session = session_for(source)

    def where(self, page: int) -> str:
        return f"{self.base}#page={page}"

    def get(self, url: str, params: dict[str, Any], page: int) -> requests.Response:
        import requests

        source = self.source
        tries = source.retries + 1
        try:
            response = self.session.get(
                url,
                params=params,
                headers=dict(self.headers),
                timeout=(source.connect_timeout, source.read_timeout),
            )
            response.raise_for_status()
        except requests.exceptions.RetryError as exc:
            problem = f"the server kept failing after {tries} tries ({self._reason(exc)})"
        except (requests.exceptions.Timeout, requests.exceptions.ConnectionError) as exc:
            text = str(exc)
            if "timed out" in text.lower() or isinstance(exc, requests.exceptions.Timeout):
                problem = (
                    f"no answer within the timeouts (connect {source.connect_timeout:g} s, "
                    f"read {source.read_timeout:g} s) in {tries} tries"
                )
            else:
                problem = f"cannot connect after {tries} tries ({self._reason(exc)})"
        except requests.exceptions.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else "?"
            problem = f"the server answered HTTP {status}"
        except requests.exceptions.RequestException as exc:
            problem = f"the request failed ({self._reason(exc)})"
        else:
            return response
        raise DataError(
            problem,
            file=self.where(page),
            hint="check collect.source (url, timeouts, retries) and that the API is up",
        )

    def _reason(self, exc: Exception) -> str:
        return redact(f"{type(exc).__name__}: {exc}", self.secrets)

    def payload(self, response: requests.Response, page: int) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            raise DataError(
                f"the response is not valid JSON ({redact(str(exc), self.secrets)}); "
                f"it starts with {redact(response.text[:60], self.secrets)!r}",
                file=self.where(page),
                expected="a JSON document with the list of records under "
                f"{self.source.records or 'its top level'!r}",
            ) from None

    def records(self, payload: Any, page: int) -> list[Any]:
        try:
            records = _dig(payload, self.source.records)
        except KeyError as exc:
            raise DataError(
                f"the page has no key {exc.args[0]!r}",
                file=self.where(page),
                expected=f"the list of records under {self.source.records!r} "
                "(set collect.source.records)",
            ) from None
        if not isinstance(records, list):
            raise DataError(
                f"the records are a {type(records).__name__}, not a list",
                file=self.where(page),
                expected=f"a list of records under {self.source.records!r}",
            )
        return records


def _batch(
    records: list[Any], columns: list[str], where: str, first_line: int = 1
) -> pa.RecordBatch:
    wanted = set(columns)
    for i, record in enumerate(records, start=first_line):
        if not isinstance(record, dict):
            raise DataError(
                f"record {i} is a {type(record).__name__}, not an object",
                file=where,
                rows=[i],
                expected="every record a JSON object of column: value",
            )
        if record.keys() != wanted:
            raise DataError(
                "the record's fields differ from the first record's: "
                f"missing {sorted(wanted - record.keys())}, "
                f"extra {sorted(record.keys() - wanted)}",
                file=where,
                rows=[i],
                expected=f"the fields {columns}",
            )
    arrays = [pa.array([_text(r[c]) for r in records], pa.string()) for c in columns]
    return with_lineage(pa.RecordBatch.from_arrays(arrays, names=columns), where, first_line)


def iter_http(source: HttpSource) -> Iterator[pa.RecordBatch]:
    """Stream the API's records, one record batch per page, in page order."""
    pages = _Pages(source)
    with masked_logs(pages.secrets):
        yield from _paginate(source, pages)


def _paginate(source: HttpSource, pages: _Pages) -> Iterator[pa.RecordBatch]:
    url: str | None = pages.first_url
    columns: list[str] | None = None
    for page in range(1, source.max_pages + 1):
        params: dict[str, Any] = dict(source.query) if page == 1 else {}
        if source.pagination == "page":
            params = {**source.query, source.page_param: source.first_page + page - 1}
        response = pages.get(url or "", params, page)
        payload = pages.payload(response, page)
        records = pages.records(payload, page)
        if not records:
            if page == 1:
                raise DataError(
                    "the API returned no records on its first page",
                    file=pages.where(page),
                    expected="at least one customer record",
                )
            if source.pagination == "page":
                return
        else:
            if columns is None:
                first = records[0]
                if not isinstance(first, dict):
                    raise DataError(
                        "record 1 is not an object",
                        file=pages.where(page),
                        rows=[1],
                        expected="every record a JSON object of column: value",
                    )
                columns = [str(k) for k in first]
            yield _batch(records, columns, pages.where(page))
        if source.pagination == "page":
            continue
        if source.pagination == "next":
            try:
                following = _dig(payload, source.next_key)
            except KeyError:
                following = None
        else:
            following = response.links.get("next", {}).get("url")
        if not following:
            return
        # The next link may hold a credential: it is only fetched, never shown.
        url = urljoin(response.url, str(following))
        pages.secrets += url_secrets(url)
    raise DataError(
        f"more than collect.source.max_pages ({source.max_pages}) pages",
        file=pages.where(source.max_pages),
        hint="raise collect.source.max_pages, or check that the API's pagination ends",
    )
