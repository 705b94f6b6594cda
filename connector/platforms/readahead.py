"""Offset paging with read-ahead: the next pages are fetched while the caller works on this one.

A platform that pages by ``offset``/``limit`` (Argilla's records) is read fastest when the server
never waits for the client. :func:`offset_pages` runs the HTTP requests in a background thread,
up to ``ahead`` pages in front of the caller, and leaves decoding to the caller's thread:
decoding a page is one long call that holds the GIL, so doing it in the fetching thread would
stall the caller's work and delay the next request. The server's time then overlaps with the
client's decoding, page building and database writes, on two cores.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterator, Sized
from typing import TypeVar

__all__ = ["offset_pages"]

_Page = TypeVar("_Page", bound=Sized)


def offset_pages(
    fetch: Callable[[int], bytes],
    decode: Callable[[bytes], _Page],
    *,
    page_size: int,
    ahead: int = 2,
) -> Iterator[_Page]:
    """``decode(fetch(offset))`` for offsets 0, ``page_size``, 2 × ``page_size``, … up to the
    first page shorter than ``page_size`` (an empty page is not yielded).

    ``fetch`` runs in a background thread, at most ``ahead`` pages in front of the page being
    consumed, so it may be called for up to ``ahead`` offsets past the end (their pages are
    dropped). An exception from ``fetch`` is raised here, at the page where it happened; pages
    before it have been yielded. Closing the iterator early (or an exception in the caller's
    loop) stops the fetching and waits for a request in flight to end.
    """
    if page_size < 1 or ahead < 1:
        raise ValueError(f"page_size and ahead must be at least 1, not {page_size} and {ahead}")
    bodies: queue.Queue[tuple[bytes, BaseException | None]] = queue.Queue(maxsize=ahead)
    stop = threading.Event()

    def produce() -> None:
        offset = 0
        while not stop.is_set():
            try:
                body = fetch(offset)
            except BaseException as exc:  # handed to the consumer, raised there
                bodies.put((b"", exc))
                return
            bodies.put((body, None))
            offset += page_size

    worker = threading.Thread(target=produce, name="read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            body, error = bodies.get()
            if error is not None:
                raise error
            page = decode(body)
            size = len(page)
            if size:
                yield page
            if size < page_size:
                return
    finally:
        stop.set()
        while worker.is_alive():  # free a put blocked on the full queue, then let it finish
            with contextlib.suppress(queue.Empty):
                bodies.get(timeout=0.05)
        worker.join()
