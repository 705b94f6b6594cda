"""Keep secrets out of the logs.

The service never logs payloads, headers, tokens or secrets on purpose. As a second line of
defence, :class:`SecretFilter` replaces the value of every known secret environment variable
(platform tokens, webhook secrets, the API token) with ``***`` wherever it appears in a log
record's message, arguments or formatted traceback, and :class:`AccessPathFilter` keeps query
strings (where a careless client puts a token) out of the access log.

``iaa-connector serve`` configures logging itself with :func:`logging_config`, passed to uvicorn
as its ``log_config``: every handler (uvicorn's, the access log, the root logger's for the
connector and APScheduler) is created with the filters on it. Filters installed before uvicorn
sets up its handlers would attach to none.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from typing import Any

from connector.config import Config

__all__ = [
    "MIN_SECRET_LENGTH",
    "AccessPathFilter",
    "SecretFilter",
    "install_secret_filter",
    "logging_config",
    "secret_env_names",
]

MIN_SECRET_LENGTH = 6  # shorter values would redact ordinary words
MASK = "***"


def secret_env_names(config: Config, *extra: str) -> tuple[str, ...]:
    """Names of the environment variables that hold secrets in ``config`` (and ``extra``):
    platform tokens, webhook secrets, the API token, the alert webhook URL."""
    names = [p.token_env for p in config.platforms]
    names += [p.webhook_secret_env for p in config.projects if p.webhook_secret_env]
    names += list(extra)
    names.append(config.argilla_webhook_secret_env)
    names.append(config.api_token_env)
    if config.alert_webhook_env:
        names.append(config.alert_webhook_env)
    return tuple(dict.fromkeys(names))


class SecretFilter(logging.Filter):
    """Redact the current values of the named environment variables from log records.

    Values are read from ``env`` on every record, so a secret rotated while the service runs is
    still hidden. The filter never drops a record.
    """

    def __init__(self, names: Iterable[str], *, env: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self.names = tuple(names)
        self.env = os.environ if env is None else env

    def _secrets(self) -> list[str]:
        values = {self.env.get(name, "") for name in self.names}
        # longest first, so a secret containing another is masked whole
        return sorted((v for v in values if len(v) >= MIN_SECRET_LENGTH), key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets():
            text = text.replace(secret, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = self._secrets()
        if not secrets:
            return True
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a broken format string: leave it to the handler
            message = str(record.msg)
        if any(secret in message for secret in secrets):
            self._redact_message(record, message, secrets)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        for name in ("exc_text", "stack_info"):
            text = getattr(record, name, None)
            if text:
                for secret in secrets:
                    text = text.replace(secret, MASK)
                setattr(record, name, text)
        return True

    @staticmethod
    def _redact_message(record: logging.LogRecord, message: str, secrets: list[str]) -> None:
        def clean(text: str) -> str:
            for secret in secrets:
                text = text.replace(secret, MASK)
            return text

        # uvicorn's formatters read the arguments themselves (the access log unpacks five of
        # them), so keep their shape when masking each string argument is enough
        args = record.args
        if isinstance(args, tuple) and isinstance(record.msg, str):
            masked = tuple(clean(a) if isinstance(a, str) else a for a in args)
            try:
                again = clean(record.msg) % masked if masked else clean(record.msg)
            except (TypeError, ValueError):
                again = message
            if not any(secret in again for secret in secrets):
                record.msg, record.args = clean(record.msg), masked
                record.__dict__.pop("color_message", None)
                return
        record.msg, record.args = clean(message), None
        record.__dict__.pop("color_message", None)  # uvicorn's coloured copy of the message


class AccessPathFilter(logging.Filter):
    """uvicorn's access log with the path only: the query string is cut off (a client may put a
    token there), whatever the log format."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        # uvicorn.access: (client address, method, full path, HTTP version, status code)
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            path = args[2].split("?", 1)[0]
            record.args = (args[0], args[1], path, args[3], args[4])
        return True


def logging_config(
    names: Iterable[str], *, level: int | str = "INFO", env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """A :func:`logging.config.dictConfig` configuration for ``serve`` (uvicorn's
    ``log_config``): uvicorn's own format on stderr, the access log (path only) on stdout, the
    connector's and other libraries' records through the root logger; every handler masks the
    values of the ``names`` environment variables.
    """
    level_name = level if isinstance(level, int) else level.upper()
    names = tuple(names)
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "secrets": {"()": lambda: SecretFilter(names, env=env)},
            "access_path": {"()": AccessPathFilter},
        },
        "formatters": {
            "default": {
                "()": "uvicorn.logging.DefaultFormatter",
                "fmt": "%(levelprefix)s %(message)s",
                "use_colors": False,
            },
            "access": {
                "()": "uvicorn.logging.AccessFormatter",
                "fmt": '%(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s',
                "use_colors": False,
            },
            "connector": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        },
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "filters": ["secrets"],
                "stream": "ext://sys.stderr",
            },
            "access": {
                "class": "logging.StreamHandler",
                "formatter": "access",
                "filters": ["access_path", "secrets"],
                "stream": "ext://sys.stdout",
            },
            "connector": {
                "class": "logging.StreamHandler",
                "formatter": "connector",
                "filters": ["secrets"],
                "stream": "ext://sys.stderr",
            },
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": level_name, "propagate": False},
            "uvicorn.error": {"level": level_name},
            "uvicorn.access": {"handlers": ["access"], "level": level_name, "propagate": False},
            # chatter at every start (schema migration), every job run and every readiness
            # probe (httpx logs each request at INFO); their warnings and errors still show
            "alembic": {"level": "WARNING"},
            "apscheduler": {"level": "WARNING"},
            "httpx": {"level": "WARNING"},
            "httpcore": {"level": "WARNING"},
        },
        "root": {"handlers": ["connector"], "level": level_name},
    }


def install_secret_filter(
    names: Iterable[str],
    *,
    loggers: Iterable[str] = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "apscheduler"),
    env: Mapping[str, str] | None = None,
) -> SecretFilter:
    """Attach one :class:`SecretFilter` to every handler of ``loggers`` (root by default).

    Handler filters see records propagated from child loggers, which logger filters do not.
    """
    secret_filter = SecretFilter(names, env=env)
    for name in loggers:
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(f, SecretFilter) for f in handler.filters):
                handler.addFilter(secret_filter)
    return secret_filter
