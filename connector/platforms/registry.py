"""Build the adapter a platform configuration names (the only switch on platform kind)."""

from __future__ import annotations

from connector.config import ConfigError, PlatformConfig
from connector.platforms.adjudication import AdjudicationDesk
from connector.platforms.argilla.adapter import Argilla
from connector.platforms.base import Platform
from connector.platforms.label_studio.adapter import LabelStudio

__all__ = ["adjudication_desk_for", "platform_for"]


def platform_for(config: PlatformConfig) -> Platform:
    """The adapter for one configured platform, authenticated with its token from the env."""
    if config.kind == "label-studio":
        return LabelStudio(config.url, config.token(), timeout_s=config.timeout_s)
    if config.kind == "argilla":
        return Argilla(
            config.url,
            config.token(),
            timeout_s=config.timeout_s,
            report_interval_s=config.dataset_report_interval_minutes * 60.0,
        )
    raise ConfigError(f"platform {config.name!r}: kind {config.kind!r} has no adapter")


def adjudication_desk_for(config: PlatformConfig) -> AdjudicationDesk:
    """The same adapter, as what the adjudication commands use of it."""
    adapter = platform_for(config)
    if not isinstance(adapter, LabelStudio | Argilla):
        raise ConfigError(f"platform {config.name!r}: kind {config.kind!r} has no adjudication")
    return adapter
