"""Credentials for database and API sources: from environment variables only, never shown.

``params.yaml`` names environment variables (``url_env: CHURN_DB_URL``, or ``${VAR}``
references inside a URL or a header); the values are substituted at run time and
every substituted value is masked in any message that could reach a log. A URL
or header in ``params.yaml`` that carries a literal secret is rejected, so no
credential is ever versioned with the params or written to ``dvc.lock``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit, urlunsplit

from churn.core.errors import ConfigError

ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
MASK = "***"
#: Header and query-parameter names whose value is a credential.
SECRET_NAME = re.compile(
    r"auth|token|key|secret|password|passwd|pwd|signature|cookie|session", re.I
)


class Resolved(str):
    """A string with environment references substituted; ``secrets`` lists the values used."""

    secrets: tuple[str, ...]

    def __new__(cls, value: str, secrets: Iterable[str] = ()) -> Resolved:
        obj = super().__new__(cls, value)
        obj.secrets = tuple(s for s in secrets if s)
        return obj


def from_environment(template: str, what: str) -> Resolved:
    """``template`` with each ``${VAR}`` replaced by environment variable VAR."""
    used: list[str] = []

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise ConfigError(
                f"{what} references the environment variable {name}, which is not set: "
                f"export {name}=... before running the pipeline"
            )
        used.append(os.environ[name])
        return os.environ[name]

    return Resolved(ENV_REFERENCE.sub(value, template), used)


def variable(name: str, what: str) -> Resolved:
    """The value of environment variable ``name`` (all of it is treated as secret)."""
    value = os.environ.get(name)
    if not value:
        raise ConfigError(
            f"{what}: the environment variable {name} is not set: export {name}=... "
            "before running the pipeline"
        )
    return Resolved(value, [value])


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret (and its URL-encoded forms) replaced by ``***``."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        for form in {secret, quote(secret, safe=""), quote_plus(secret)}:
            text = text.replace(form, MASK)
    return text


class _Redacting(logging.Filter):
    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = secrets  # the caller's list: secrets found later are masked too

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = redact(message, self.secrets)
        if masked != message:
            record.msg, record.args = masked, None
        return True


@contextmanager
def masked_logs(secrets: list[str]) -> Iterator[None]:
    """Mask ``secrets`` in every log line while the block runs.

    Libraries log URLs (urllib3 logs each retry with the request's path and query),
    so the filter sits on the handlers, where every logger's records end up.
    """
    masker = _Redacting(secrets)
    handlers = [*logging.getLogger().handlers]
    if logging.lastResort is not None:
        handlers.append(logging.lastResort)
    for handler in handlers:
        handler.addFilter(masker)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(masker)


def url_secrets(url: str) -> list[str]:
    """The credential parts of a resolved URL: its password and secret-named query values."""
    try:
        parts = urlsplit(url)
        found = [parts.password or ""]
    except ValueError:
        return []
    found += [v for k, v in parse_qsl(parts.query) if SECRET_NAME.search(k)]
    return [s for s in found if s]


def reject_literal_password(url: str) -> None:
    """Refuse a URL in params.yaml whose password or secret query value is written literally.

    The message never repeats the value.
    """
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return  # not a URL with credentials; the driver will report what is wrong
    if password and not ENV_REFERENCE.fullmatch(password):
        raise ValueError(
            "the URL contains a literal password: write ${VAR} in its place and export VAR, "
            "or put the whole URL in an environment variable named by url_env"
        )
    for name, value in parse_qsl(parts.query):
        if SECRET_NAME.search(name) and not ENV_REFERENCE.fullmatch(value):
            raise ValueError(
                f"the URL's query parameter {name!r} looks like a credential written literally: "
                "write ${VAR} in its place and export VAR"
            )


def reject_literal_secret_headers(headers: dict[str, str]) -> None:
    """Refuse credential headers (Authorization, X-Api-Key, ...) without a ``${VAR}``."""
    for name, value in headers.items():
        if SECRET_NAME.search(name) and not ENV_REFERENCE.search(value):
            raise ValueError(
                f"the header {name!r} looks like a credential written literally: "
                "write ${VAR} in its place (e.g. 'Bearer ${CHURN_API_TOKEN}') and export VAR"
            )


def public_url(url: str) -> str:
    """A URL without user name or password, safe to show and to store as lineage."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<unparseable URL>"
    netloc = f"{host}:{port}" if port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def http_label(url_template: str) -> str:
    """Lineage label of an API source: its URL as written in params (no values substituted)."""
    return f"http:{public_url(url_template)}"


def sql_label(table: str | None, query: str | None) -> str:
    """Lineage label of a database source: the table, or a hash of the query."""
    if table:
        return f"sql:{table}"
    digest = hashlib.sha256((query or "").encode()).hexdigest()[:12]
    return f"sql:query-{digest}"
