"""Readiness: is the store reachable, and is every configured platform answering?

A platform is up when a cheap unauthenticated GET (Label Studio ``/health``, Argilla
``/api/v1/status``) gets any HTTP answer below 500 within ``timeout_s``; the store when
``SELECT 1`` runs. Results are cached for ``cache_s`` so a busy probe does not hammer the
platforms.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import anyio
import anyio.to_thread
import httpx
from sqlalchemy import text

from connector.config import Config, PlatformConfig
from connector.store import Store

__all__ = ["HEALTH_PATHS", "Readiness"]

HEALTH_PATHS: Mapping[str, str] = {"label-studio": "/health", "argilla": "/api/v1/status"}


class Readiness:
    """Cached readiness checks; :meth:`check` maps each part to None (up) or why it is down."""

    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        timeout_s: float = 2.0,
        cache_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.store = store
        self.timeout_s = timeout_s
        self.cache_s = cache_s
        self.clock = clock
        self._cached: tuple[float, dict[str, str | None]] | None = None

    async def check(self) -> dict[str, str | None]:
        """``{"store": None, "platform local-ls": "connection refused", ...}``."""
        cached = self._cached
        if cached is not None and self.clock() - cached[0] < self.cache_s:
            return dict(cached[1])
        results: dict[str, str | None] = {}

        async def store_check() -> None:
            results["store"] = await anyio.to_thread.run_sync(self._store_down)

        async def platform_check(platform: PlatformConfig) -> None:
            results[f"platform {platform.name}"] = await self._platform_down(platform)

        async with anyio.create_task_group() as group:
            group.start_soon(store_check)
            for platform in self.config.platforms:
                group.start_soon(platform_check, platform)
        self._cached = (self.clock(), results)
        return dict(results)

    def _store_down(self) -> str | None:
        try:
            with self.store.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as exc:
            return f"unreachable ({type(exc).__name__})"
        return None

    async def _platform_down(self, platform: PlatformConfig) -> str | None:
        url = platform.url + HEALTH_PATHS.get(platform.kind, "/")
        try:
            async with httpx.AsyncClient(timeout=self.timeout_s) as client:
                response = await client.get(url)
        except httpx.TimeoutException:
            return f"no answer within {self.timeout_s:g} s"
        except httpx.HTTPError as exc:
            return f"unreachable ({type(exc).__name__})"
        if response.status_code >= 500:
            return f"HTTP {response.status_code}"
        return None
