"""An Argilla search engine that answers from Argilla's own SQL database (no Elasticsearch).

argilla-server 2.8 keeps every record, response, suggestion and vector in its SQL database and
mirrors them into an Elasticsearch/OpenSearch index for searching. Neither can be installed here,
so this engine registers under the name ``sql`` (select it with ``ARGILLA_SEARCH_ENGINE=sql``)
and answers the read side from the database itself:

- ``search``: every query of the SDK and of the web UI, among them the annotation queue
  (``POST /api/v1/me/datasets/{id}/records/search``: response status ``pending`` for the current
  user, AND record status ``pending``), filters on record, metadata, suggestion and response
  scopes, sorting, a simple text query, offset and limit;
- ``get_dataset_progress``, ``get_dataset_user_progress``: counts by record / response status;
- ``compute_metrics_for``: terms counts or min/max of a metadata property;
- ``similarity_search``: cosine similarity over the stored vectors, computed in Python.

The write side (index_records, update_record_response, ...) does nothing: the database is the
source of truth, so nothing needs reindexing, ever (a restart keeps every record searchable).

Each call loads the needed columns of one dataset's records, responses and suggestions and
evaluates argilla's own filter and sort objects in Python, with the semantics of
``argilla_server/search_engine/commons.py`` (the Elasticsearch engine). That is fast enough for
the tens of thousands of records of a test or demo server; it is not meant for millions.
Differences from the Elasticsearch engine, all deliberate:

- the text query is a small subset of ES ``simple_query_string``: terms are ANDed, matched
  case-insensitively against the words of the text fields (or of the named field); ``word*`` is
  a prefix, ``-word`` excludes, ``"a phrase"`` is a substring; the score counts the matches;
- ``get_dataset_user_progress`` counts the user's own responses by status (the ES version counts
  the statuses of every response on the records the user answered);
- a metadata property added after records were logged is searchable at once (ES needs a reindex);
- without a sort, records come in insertion order, or, for a user's search, in a per-user
  pseudo-random order that is stable (ES: ``random_score`` seeded by the user id).

The module must be imported before the server, the rq worker or the CLI starts: ``launcher.py``
does that.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from argilla_server.database import AsyncSessionLocal
from argilla_server.enums import (
    MetadataPropertyType,
    ResponseStatusFilter,
    SimilarityOrder,
    SortOrder,
)
from argilla_server.models import (
    Dataset,
    MetadataProperty,
    Question,
    Record,
    Response,
    Suggestion,
    User,
    Vector,
    VectorSettings,
)
from argilla_server.models import Field as DatasetField
from argilla_server.search_engine.base import (
    AndFilter,
    Filter,
    FilterScope,
    FloatMetadataMetrics,
    IntegerMetadataMetrics,
    MetadataFilterScope,
    MetadataMetrics,
    Order,
    RangeFilter,
    RecordFilterScope,
    ResponseFilterScope,
    SearchEngine,
    SearchResponseItem,
    SearchResponses,
    SuggestionFilterScope,
    TermsFilter,
    TermsMetrics,
    TextQuery,
)
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ["ENGINE_NAME", "SQLSearchEngine"]

ENGINE_NAME = "sql"

_WORD = re.compile(r"\w+")
_RECORD_DATES = {"inserted_at", "updated_at"}


@dataclass(slots=True)
class _Response:
    user_id: UUID
    status: str
    values: dict[str, Any]  # question name -> value


@dataclass(slots=True)
class _Suggestion:
    value: Any
    score: Any
    agent: str | None
    type: str | None


@dataclass(slots=True)
class _Document:
    """One record as the Elasticsearch engine would index it."""

    id: UUID
    external_id: str | None
    status: str
    inserted_at: datetime
    updated_at: datetime
    metadata: dict[str, Any]
    fields: dict[str, Any]
    responses: list[_Response] = field(default_factory=list)
    suggestions: dict[str, _Suggestion] = field(default_factory=dict)
    score: float = 1.0


@SearchEngine.register(engine_name=ENGINE_NAME)
class SQLSearchEngine(SearchEngine):
    """Argilla's search engine interface, answered from the SQL database (see the module doc)."""

    @classmethod
    async def new_instance(cls) -> SQLSearchEngine:
        return cls()

    async def close(self) -> None:
        return None

    async def ping(self) -> bool:
        return True

    async def info(self) -> dict[str, Any]:
        return {"backend": ENGINE_NAME, "distribution": "argilla database", "version": "1"}

    # --- write side: the database already holds everything ------------------------------------

    async def create_index(self, dataset: Dataset) -> None:
        return None

    async def delete_index(self, dataset: Dataset) -> None:
        return None

    async def configure_metadata_property(
        self, dataset: Dataset, metadata_property: MetadataProperty
    ) -> None:
        return None

    async def configure_index_vectors(self, vector_settings: VectorSettings) -> None:
        return None

    async def index_records(self, dataset: Dataset, records: Iterable[Record]) -> None:
        return None

    async def partial_record_update(self, record: Record, **update: Any) -> None:
        return None

    async def delete_records(self, dataset: Dataset, records: Iterable[Record]) -> None:
        return None

    async def update_record_response(self, response: Response) -> None:
        return None

    async def delete_record_response(self, response: Response) -> None:
        return None

    async def update_record_suggestion(self, suggestion: Suggestion) -> None:
        return None

    async def delete_record_suggestion(self, suggestion: Suggestion) -> None:
        return None

    # --- read side -----------------------------------------------------------------------------

    async def get_dataset_progress(self, dataset: Dataset) -> dict[str, Any]:
        """``{"total": n, "pending": n, "completed": n}`` by record status; ``{}`` for a draft."""
        if dataset.is_draft:
            return {}
        async with AsyncSessionLocal() as db:
            statuses = (
                await db.scalars(select(Record.status).filter_by(dataset_id=dataset.id))
            ).all()
        counts = Counter(str(status.value) for status in statuses)
        return {"total": len(statuses), **counts}

    async def get_dataset_user_progress(self, dataset: Dataset, user: User) -> dict[str, Any]:
        """``{"total": n, "submitted": n, "draft": n, "discarded": n}``: the user's responses."""
        if dataset.is_draft:
            return {}
        async with AsyncSessionLocal() as db:
            statuses = (
                await db.scalars(
                    select(Response.status)
                    .join(Record, Record.id == Response.record_id)
                    .where(Record.dataset_id == dataset.id, Response.user_id == user.id)
                )
            ).all()
        counts = Counter(str(status.value) for status in statuses)
        return {"total": len(statuses), **counts}

    async def search(
        self,
        dataset: Dataset,
        query: TextQuery | str | None = None,
        filter: Filter | None = None,
        sort: list[Order] | None = None,
        offset: int = 0,
        limit: int = 100,
        user_id: UUID | str | None = None,
    ) -> SearchResponses:
        async with AsyncSessionLocal() as db:
            documents = await _load_documents(db, dataset.id, with_fields=query is not None)
            text_fields = await _text_field_names(db, dataset.id)
        matched = _match(documents, query=query, filter=filter, text_fields=text_fields)
        if sort:
            matched = _sorted(matched, sort)
        elif query is not None:
            matched.sort(key=lambda doc: -doc.score)  # stable: ties keep insertion order
        elif user_id is not None:
            matched.sort(key=lambda doc: _shuffle_key(str(user_id), doc.id))
        page = matched[offset : offset + limit]
        return SearchResponses(
            items=[SearchResponseItem(record_id=doc.id, score=doc.score) for doc in page],
            total=len(matched),
        )

    async def compute_metrics_for(self, metadata_property: MetadataProperty) -> MetadataMetrics:
        name = metadata_property.name
        async with AsyncSessionLocal() as db:
            rows = (
                await db.scalars(
                    select(Record.metadata_).filter_by(dataset_id=metadata_property.dataset_id)
                )
            ).all()
        values = [v for metadata in rows if metadata for v in _as_list(metadata.get(name))]
        if metadata_property.type == MetadataPropertyType.terms:
            counts = Counter(_term(v) for v in values)
            # like an ES terms aggregation: by count descending, then by term
            ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
            return TermsMetrics(
                total=len(values),
                values=[TermsMetrics.TermCount(term=term, count=count) for term, count in ordered],
            )
        numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
        metrics = (
            IntegerMetadataMetrics
            if metadata_property.type == MetadataPropertyType.integer
            else FloatMetadataMetrics
        )
        return metrics(min=min(numbers, default=None), max=max(numbers, default=None))

    async def similarity_search(
        self,
        dataset: Dataset,
        vector_settings: VectorSettings,
        value: list[float] | None = None,
        record: Record | None = None,
        query: TextQuery | str | None = None,
        filter: Filter | None = None,
        max_results: int = 100,
        order: SimilarityOrder = SimilarityOrder.most_similar,
        threshold: float | None = None,
    ) -> SearchResponses:
        if bool(value) == bool(record):
            raise ValueError(
                "Must provide either vector value or record to compute the similarity search"
            )
        excluded = None
        if not value and record is not None:
            excluded = record.id
            value = record.vector_value_by_vector_settings(vector_settings)
        if not value:
            raise ValueError("Cannot find a vector value to apply with provided info")
        if order == SimilarityOrder.least_similar:
            value = [-x for x in value]

        async with AsyncSessionLocal() as db:
            documents = await _load_documents(db, dataset.id, with_fields=query is not None)
            text_fields = await _text_field_names(db, dataset.id)
            vectors = dict(
                (
                    await db.execute(
                        select(Vector.record_id, Vector.value).filter_by(
                            vector_settings_id=vector_settings.id
                        )
                    )
                ).tuples()
            )
        candidates = _match(
            [doc for doc in documents if doc.id in vectors and doc.id != excluded],
            query=query,
            filter=filter,
            text_fields=text_fields,
        )
        # Elasticsearch's score for a cosine similarity: (1 + cos) / 2, in [0, 1]
        scored = [((1.0 + _cosine(value, vectors[doc.id])) / 2.0, doc) for doc in candidates]
        scored.sort(key=lambda item: -item[0])
        scored = scored[:max_results]
        if threshold is not None:
            scored = [item for item in scored if item[0] >= threshold]
        return SearchResponses(
            items=[SearchResponseItem(record_id=doc.id, score=score) for score, doc in scored],
            total=len(scored),
        )


# --- loading ---------------------------------------------------------------------------------


async def _load_documents(
    db: AsyncSession, dataset_id: UUID, *, with_fields: bool
) -> list[_Document]:
    """The dataset's records, with responses and suggestions, in insertion order."""
    columns = [
        Record.id,
        Record.external_id,
        Record.status,
        Record.inserted_at,
        Record.updated_at,
        Record.metadata_,
    ]
    if with_fields:
        columns.append(Record.fields)
    rows = await db.execute(
        select(*columns).filter_by(dataset_id=dataset_id).order_by(Record.inserted_at, Record.id)
    )
    documents = {
        row[0]: _Document(
            id=row[0],
            external_id=row[1],
            status=str(row[2].value),
            inserted_at=row[3],
            updated_at=row[4],
            metadata=row[5] or {},
            fields=row[6] if with_fields else {},
        )
        for row in rows.tuples()
    }

    responses = await db.execute(
        select(Response.record_id, Response.user_id, Response.status, Response.values)
        .join(Record, Record.id == Response.record_id)
        .where(Record.dataset_id == dataset_id)
    )
    for record_id, user_id, status, values in responses.tuples():
        documents[record_id].responses.append(
            _Response(
                user_id=user_id,
                status=str(status.value),
                values={name: (v or {}).get("value") for name, v in (values or {}).items()},
            )
        )

    suggestions = await db.execute(
        select(
            Suggestion.record_id,
            Question.name,
            Suggestion.value,
            Suggestion.score,
            Suggestion.agent,
            Suggestion.type,
        )
        .join(Question, Question.id == Suggestion.question_id)
        .where(Question.dataset_id == dataset_id)
    )
    for record_id, question, value, score, agent, kind in suggestions.tuples():
        if record_id in documents:
            documents[record_id].suggestions[question] = _Suggestion(
                value=value, score=score, agent=agent, type=kind.value if kind else None
            )
    return list(documents.values())


async def _text_field_names(db: AsyncSession, dataset_id: UUID) -> list[str]:
    """The fields a text query searches: all but images (ES does not index those)."""
    rows = await db.execute(
        select(DatasetField.name, DatasetField.settings).filter_by(dataset_id=dataset_id)
    )
    return [name for name, settings in rows.tuples() if (settings or {}).get("type") != "image"]


# --- filters ---------------------------------------------------------------------------------


def _match(
    documents: list[_Document],
    *,
    query: TextQuery | str | None,
    filter: Filter | None,
    text_fields: list[str],
) -> list[_Document]:
    predicate = _predicate(filter) if filter is not None else None
    text = _text_matcher(query, text_fields) if query is not None else None
    matched = []
    for doc in documents:
        if predicate is not None and not predicate(doc):
            continue
        if text is not None:
            score = text(doc)
            if score <= 0:
                continue
            doc.score = score
        matched.append(doc)
    return matched


def _predicate(filter: Filter) -> Callable[[_Document], bool]:
    if isinstance(filter, AndFilter):
        parts = [_predicate(f) for f in filter.filters]
        return lambda doc: all(part(doc) for part in parts)
    scope = filter.scope
    if isinstance(scope, ResponseFilterScope):
        if scope.question:
            return _response_value_predicate(filter, scope)
        if scope.property == "status" and isinstance(filter, TermsFilter):
            return _response_status_predicate(filter.values, scope.user)
        raise ValueError(f"Cannot process filter scope {scope}")
    test = _value_test(
        filter, dates=isinstance(scope, RecordFilterScope) and scope.property in _RECORD_DATES
    )
    return lambda doc: any(test(v) for v in _as_list(_scope_value(doc, scope)))


def _response_status_predicate(
    values: Sequence[str], user: User | None
) -> Callable[[_Document], bool]:
    """``pending``: no response (by ``user``, if given); other statuses: a response in them."""
    pending = ResponseStatusFilter.pending in values
    statuses = {str(v) for v in values if v != ResponseStatusFilter.pending}

    def mine(doc: _Document) -> list[_Response]:
        return [r for r in doc.responses if user is None or r.user_id == user.id]

    return lambda doc: (pending and not mine(doc)) or any(r.status in statuses for r in mine(doc))


def _response_value_predicate(
    filter: TermsFilter | RangeFilter, scope: ResponseFilterScope
) -> Callable[[_Document], bool]:
    """A response (by ``scope.user``, if given, in any status) whose answer matches."""
    test = _value_test(filter, dates=False)
    question, user = scope.question or "", scope.user
    return lambda doc: any(
        any(test(v) for v in _as_list(r.values.get(question)))
        for r in doc.responses
        if user is None or r.user_id == user.id
    )


def _value_test(filter: TermsFilter | RangeFilter, *, dates: bool) -> Callable[[Any], bool]:
    if isinstance(filter, TermsFilter):
        wanted = {_term(v) for v in filter.values}
        return lambda value: value is not None and _term(value) in wanted
    if isinstance(filter, RangeFilter):
        convert = _as_datetime if dates else _as_number
        ge = convert(filter.ge) if filter.ge is not None else None
        le = convert(filter.le) if filter.le is not None else None

        def in_range(value: Any) -> bool:
            v = convert(value)
            return v is not None and (ge is None or v >= ge) and (le is None or v <= le)

        return in_range
    raise ValueError(f"Cannot process request for filter {filter}")


def _scope_value(doc: _Document, scope: FilterScope) -> Any:
    if isinstance(scope, MetadataFilterScope):
        return doc.metadata.get(scope.metadata_property)
    if isinstance(scope, SuggestionFilterScope):
        suggestion = doc.suggestions.get(scope.question)
        return getattr(suggestion, scope.property, None) if suggestion else None
    if isinstance(scope, RecordFilterScope):
        return getattr(doc, scope.property, None)
    raise ValueError(f"Cannot process request for search scope {scope}")


# --- text query --------------------------------------------------------------------------------


def _text_matcher(query: TextQuery | str, text_fields: list[str]) -> Callable[[_Document], float]:
    """A score > 0 when every term of the query matches (see the module doc for the syntax)."""
    text = query if isinstance(query, TextQuery) else TextQuery(q=query)
    names = [text.field] if text.field else text_fields
    phrases = [p.lower() for p in re.findall(r'"([^"]*)"', text.q)]
    terms = re.sub(r'"[^"]*"', " ", text.q).split()
    required = [t.lower() for t in terms if not t.startswith("-")]
    excluded = [t[1:].lower() for t in terms if t.startswith("-") and len(t) > 1]

    def count(term: str, words: list[str]) -> int:
        stem = term.rstrip("*")
        tokens = _WORD.findall(stem)
        if term.endswith("*") and len(tokens) == 1:
            return sum(w.startswith(tokens[0]) for w in words)
        return sum(words.count(token) for token in tokens) if all(t in words for t in tokens) else 0

    def score(doc: _Document) -> float:
        content = " ".join(_strings(doc.fields.get(name)) for name in names).lower()
        words = _WORD.findall(content)
        if any(count(term, words) for term in excluded):
            return 0.0
        hits = [count(term, words) for term in required] + [content.count(p) for p in phrases]
        return float(sum(hits)) if hits and all(hits) else 0.0

    return score


def _strings(value: Any) -> str:
    """All text inside a field value (a string, a chat's messages, a custom field's JSON)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return " ".join(_strings(v) for v in value.values())
    if isinstance(value, list):
        return " ".join(_strings(v) for v in value)
    return "" if value is None else str(value)


# --- sorting -----------------------------------------------------------------------------------


def _sorted(documents: list[_Document], sort: list[Order]) -> list[_Document]:
    """Sort by each order in turn (last first, Python's sort is stable); missing values last."""
    result = list(documents)
    for order in reversed(sort):
        present = [(key, doc) for doc in result if (key := _sort_key(doc, order.scope)) is not None]
        missing = [doc for doc in result if _sort_key(doc, order.scope) is None]
        present.sort(key=lambda item: item[0], reverse=order.order == SortOrder.desc)
        result = [doc for _, doc in present] + missing
    return result


def _sort_key(doc: _Document, scope: FilterScope) -> Any:
    if isinstance(scope, ResponseFilterScope):
        # ES: nested sort, mode avg, over the responses (of scope.user, if given)
        name = scope.question or scope.property or ""
        values = [
            v
            for r in doc.responses
            if scope.user is None or r.user_id == scope.user.id
            for v in _as_list(r.status if name == "status" else r.values.get(name))
        ]
        numbers = [_as_number(v) for v in values]
        if values and all(n is not None for n in numbers):
            return sum(n for n in numbers if n is not None) / len(numbers)
        return min((_term(v) for v in values), default=None)
    values = _as_list(_scope_value(doc, scope))
    if not values:
        return None
    value = values[0]
    if isinstance(value, datetime | int | float) and not isinstance(value, bool):
        return value
    return _term(value)


def _shuffle_key(seed: str, record_id: UUID) -> bytes:
    return hashlib.sha256(f"{seed}:{record_id}".encode()).digest()


# --- values ------------------------------------------------------------------------------------


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _term(value: Any) -> str:
    """A value as an ES keyword term: ``3``, ``3.0`` and ``"3"`` are the same term."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, UUID):
        return str(value)
    if hasattr(value, "value") and isinstance(value.value, str):  # an enum
        return str(value.value)
    text = str(value)
    number = _as_number(text)
    if number is not None and number.is_integer() and not text.strip().isdigit():
        return str(int(number))
    return text


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _as_datetime(value: Any) -> datetime | None:
    """A naive UTC datetime from a datetime, an ISO 8601 string, or epoch milliseconds (ES)."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        moment = datetime.fromtimestamp(value / 1000, tz=UTC)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            number = _as_number(value)
            return _as_datetime(number) if number is not None else None
    else:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=False))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0
