"""Keep secrets out of the logs.

The service never logs payloads, headers, tokens or secrets on purpose. As a second line of
defence, :class:`SecretFilter` replaces the value of every known secret environment variable
(platform tokens, webhook secrets) with ``***`` wherever it appears in a log record's message,
arguments or formatted traceback.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping

from connector.config import Config

__all__ = ["MIN_SECRET_LENGTH", "SecretFilter", "install_secret_filter", "secret_env_names"]

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
        clean = message
        for secret in secrets:
            clean = clean.replace(secret, MASK)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            for secret in secrets:
                record.exc_text = record.exc_text.replace(secret, MASK)
        return True


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
