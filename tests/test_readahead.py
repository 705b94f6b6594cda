"""Offset paging with read-ahead: order, the end of the pages, errors, early close."""

from __future__ import annotations

import json
import threading
import time

import pytest

from connector.platforms.readahead import offset_pages


class Pages:
    """``total`` numbered items served ``page_size`` at a time, as JSON bodies; records calls."""

    def __init__(self, total: int, *, fail_at: int | None = None, delay_s: float = 0.0) -> None:
        self.total, self.fail_at, self.delay_s = total, fail_at, delay_s
        self.offsets: list[int] = []
        self.threads: set[str] = set()

    def fetch(self, offset: int, page_size: int) -> bytes:
        self.offsets.append(offset)
        self.threads.add(threading.current_thread().name)
        time.sleep(self.delay_s)
        if self.fail_at is not None and offset >= self.fail_at:
            raise ConnectionError(f"no answer at offset {offset}")
        return json.dumps(list(range(offset, min(self.total, offset + page_size)))).encode()


def read(pages: Pages, *, page_size: int, ahead: int = 2) -> list[list[int]]:
    return list(
        offset_pages(
            lambda offset: pages.fetch(offset, page_size),
            json.loads,
            page_size=page_size,
            ahead=ahead,
        )
    )


@pytest.mark.parametrize(("total", "page_size"), [(0, 5), (3, 5), (10, 5), (11, 5), (7, 1)])
def test_every_item_once_in_order_up_to_the_first_short_page(total: int, page_size: int) -> None:
    pages = Pages(total)
    got = read(pages, page_size=page_size)
    assert [item for page in got for item in page] == list(range(total))
    assert all(len(page) == page_size for page in got[:-1])
    assert [] not in got  # an empty last page is not yielded
    # fetched in offset order, at most `ahead` pages past the short one
    assert pages.offsets == sorted(pages.offsets)
    last_needed = (total // page_size) * page_size
    assert last_needed in pages.offsets
    assert max(pages.offsets) <= last_needed + 2 * page_size
    assert pages.threads == {"read-ahead"}  # never in the caller's thread


def test_a_fetch_error_is_raised_after_the_pages_before_it() -> None:
    pages = Pages(100, fail_at=20)
    got: list[list[int]] = []
    iterator = offset_pages(lambda offset: pages.fetch(offset, 10), json.loads, page_size=10)
    got.append(next(iterator))
    got.append(next(iterator))
    with pytest.raises(ConnectionError, match="offset 20"):
        next(iterator)
    assert got == [list(range(10)), list(range(10, 20))]


def test_closing_early_stops_fetching_and_leaves_no_thread() -> None:
    pages = Pages(10_000, delay_s=0.01)
    before = threading.active_count()
    iterator = offset_pages(lambda offset: pages.fetch(offset, 10), json.loads, page_size=10)
    assert next(iterator) == list(range(10))
    iterator.close()
    fetched = len(pages.offsets)
    time.sleep(0.1)
    assert len(pages.offsets) == fetched <= 1 + 2 + 1  # this page, two ahead, one in flight
    assert threading.active_count() == before


def test_an_error_in_the_callers_loop_stops_the_fetching() -> None:
    pages = Pages(10_000, delay_s=0.01)
    before = threading.active_count()
    iterator = offset_pages(lambda offset: pages.fetch(offset, 10), json.loads, page_size=10)
    next(iterator)
    with pytest.raises(RuntimeError, match="caller"):
        iterator.throw(RuntimeError("caller failed"))  # as an exception in a for loop's body
    assert threading.active_count() == before
    assert len(pages.offsets) <= 4


def test_a_decode_error_is_the_callers() -> None:
    with pytest.raises(json.JSONDecodeError):
        list(offset_pages(lambda offset: b"not json", json.loads, page_size=10))


@pytest.mark.parametrize(("page_size", "ahead"), [(0, 2), (10, 0)])
def test_sizes_below_one_are_refused(page_size: int, ahead: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        next(offset_pages(lambda offset: b"[]", json.loads, page_size=page_size, ahead=ahead))
