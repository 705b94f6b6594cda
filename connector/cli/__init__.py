"""The ``iaa-connector`` command line.

Offline: ``report``, ``consensus``, ``rubric validate``, ``rubric new``, ``labelconfig``. With a
configuration file (``iaa-connector init`` writes one): ``sync``, ``push``, ``webhooks install``,
``adjudication queue|pull|log``, ``calibration-session``, ``rubric promote``.

Errors the user can fix (a bad rubric, a bad input table, an unknown option) print one clear
line on stderr and exit with status 2 (``rubric validate`` prints every error of each file, one
line each, and exits with status 1); they never show a traceback. A store that cannot be
opened (its directory cannot be created, the database is unreachable), a failed sync or a
project another process is syncing print one line too and exit with status 1.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from connector import __version__
from connector.errors import ConnectorError, JudgmentTableError, RubricError
from connector.judgments.formats import INPUT_FORMATS

if TYPE_CHECKING:
    import pandas as pd

    from connector.config import Config
    from connector.platforms.base import Platform
    from connector.report.versions import VersionSplit
    from connector.rubric import Coding, Rubric
    from connector.store import Store

# Start-up: ``--version`` and ``--help`` import only typer, rich and the names above; every
# command imports what it uses (pandas, SQLAlchemy, the platforms) in its body.

app = typer.Typer(
    help="Inter-annotator agreement and annotator quality for human preference data.",
    no_args_is_help=True,
    add_completion=False,
)
rubric_app = typer.Typer(help="Work with versioned rubrics.", no_args_is_help=True)
app.add_typer(rubric_app, name="rubric")
err = Console(stderr=True, soft_wrap=True)


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False, markup=True, soft_wrap=True)
    return typer.Exit(code=2)


@app.callback(invoke_without_command=True)
def _main(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        typer.echo(_version_line())
        raise typer.Exit()


def _version_line() -> str:
    return f"iaa-connector {__version__}"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@app.command()
def report(
    input: Annotated[
        Path,
        typer.Argument(
            help="Judgments: a table (CSV or TSV, delimiter sniffed; JSONL; JSON; Parquet), "
            "long, wide or one-hot (see --item-col ... --one-hot), or a platform's own export "
            "(Label Studio, Argilla, Prodigy db-out, Labelbox, Surge AI, Scale AI, Mechanical "
            "Turk batch results).",
            exists=True,
            dir_okay=False,
        ),
    ],
    rubric: Annotated[
        Path | None,
        typer.Option(help="Rubric YAML; without it every dimension is nominal.", dir_okay=False),
    ] = None,
    version_rubric: Annotated[
        list[Path] | None,
        typer.Option(
            "--version-rubric",
            metavar="FILE",
            dir_okay=False,
            help="With --rubric: the rubric of another version named in the table's "
            "rubric_version column (as <id>@v<version>); its rows are scored under it and "
            "reported apart, as a sync does (repeatable).",
        ),
    ] = None,
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Write the JSON report here.")
    ] = None,
    md_path: Annotated[
        Path | None, typer.Option("--md", help="Write the Markdown report here.")
    ] = None,
    html_path: Annotated[
        Path | None, typer.Option("--html", help="Write the self-contained HTML report here.")
    ] = None,
    non_decisive: Annotated[
        list[str] | None,
        typer.Option(
            metavar="VALUE",
            help="Without --rubric: a value that prefers neither response, in any dimension "
            "where it occurs (repeatable; default: tie), e.g. --non-decisive 0.",
        ),
    ] = None,
    level: Annotated[
        list[str] | None,
        typer.Option(
            metavar="DIMENSION=LEVEL",
            help="Without --rubric: score DIMENSION at LEVEL (nominal, ordinal, interval, "
            "ratio) instead of nominal (repeatable), e.g. --level helpfulness=ordinal.",
        ),
    ] = None,
    categories: Annotated[
        list[str] | None,
        typer.Option(
            metavar="DIMENSION=V1,V2,...",
            help="Without --rubric: every value of DIMENSION in order, including values "
            "nobody chose (repeatable), e.g. --categories helpfulness=1,2,3,4,5.",
        ),
    ] = None,
    responses: Annotated[
        list[str] | None,
        typer.Option(
            metavar="DIMENSION=FIRST,SECOND",
            help="Without --rubric: the values of DIMENSION that mean response_a and "
            "response_b, making it a preference (repeatable), e.g. --responses vote=1,2.",
        ),
    ] = None,
    normalise_labels: Annotated[
        bool,
        typer.Option(
            "--normalise-labels",
            help="Read labels that differ only in case or surrounding spaces as one label "
            "(the rubric's spelling, else the most frequent one).",
        ),
    ] = False,
    resamples: Annotated[int, typer.Option(min=0, help="Bootstrap resamples (0: none).")] = 1000,
    seed: Annotated[int, typer.Option(help="Bootstrap seed.")] = 0,
    min_shared_items: Annotated[
        int, typer.Option(min=1, help="Least shared items for an annotator pair to be listed.")
    ] = 5,
    read_as: Annotated[
        str | None,
        typer.Option(
            "--format",
            help=f"Read JUDGMENTS as this format instead of detecting it: "
            f"{', '.join(INPUT_FORMATS)}.",
        ),
    ] = None,
    answer_map: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            metavar="FIELD=DIMENSION",
            help="Read a platform export's answer FIELD as DIMENSION (repeatable). With any "
            "--map, answer fields not named are left out (and counted).",
        ),
    ] = None,
    rationale: Annotated[
        list[str] | None,
        typer.Option(
            metavar="FIELD",
            help="Read a platform export's answer FIELD as the judgment's rationale (free "
            "text, not scored; repeatable).",
        ),
    ] = None,
    item_col: Annotated[
        str | None,
        typer.Option(
            metavar="COLUMN[,COLUMN...]",
            help="The column naming the item; several, comma-separated, make one item key "
            "(e.g. bbcid,system).",
        ),
    ] = None,
    annotator_col: Annotated[
        str | None, typer.Option(metavar="COLUMN", help="The column naming the annotator.")
    ] = None,
    value_col: Annotated[
        str | None, typer.Option(metavar="COLUMN", help="The column holding the value.")
    ] = None,
    dimension_col: Annotated[
        str | None, typer.Option(metavar="COLUMN", help="The column naming the dimension.")
    ] = None,
    dimension: Annotated[
        str | None,
        typer.Option(metavar="NAME", help="One dimension NAME for every row (no column)."),
    ] = None,
    one_hot: Annotated[
        list[str] | None,
        typer.Option(
            metavar="PREFIX",
            help="Columns PREFIX.<value> hold 1 on the chosen value: dimension PREFIX "
            "(repeatable).",
        ),
    ] = None,
    wide: Annotated[
        bool,
        typer.Option(
            "--wide",
            help="One row per item, one column per annotator (also detected when the table has "
            "no annotator and no value column).",
        ),
    ] = False,
    drop_empty: Annotated[
        bool,
        typer.Option(
            "--drop-empty", help="Drop rows with an empty value and count them (not an error)."
        ),
    ] = False,
    na: Annotated[
        list[str] | None,
        typer.Option(
            metavar="TEXT",
            help="Read this cell text as empty in CSV/TSV files (repeatable, e.g. --na NULL).",
        ),
    ] = None,
    groups_path: Annotated[
        Path | None,
        typer.Option(
            "--groups",
            dir_okay=False,
            help="TOML file of annotator groups (expert = [...], crowd = [...]): agreement "
            "with the expert consensus and per category.",
        ),
    ] = None,
) -> None:
    """Compute the agreement report of a judgments table."""
    from connector.judgments import (
        AnswerMap,
        PlatformTable,
        TableLayout,
        input_format,
        load_judgments,
    )
    from connector.report.build import ReportOptions, build_report, jsonable
    from connector.report.checks import RowPlaces, check_input
    from connector.report.tiers import load_groups
    from connector.report.versions import version_sections
    from connector.rubric import adhoc_rubric

    try:
        answers = AnswerMap(
            dimensions=_answer_map(answer_map or []), rationale=tuple(rationale or ())
        )
        layout = TableLayout(
            item=_columns("--item-col", item_col),
            annotator=annotator_col,
            value=value_col,
            dimension=dimension_col,
            fixed_dimension=dimension,
            one_hot=tuple(one_hot or ()),
            wide=True if wide else None,
            drop_empty=drop_empty,
            empty_markers=tuple(na or ()),
        )
        table = load_judgments(input, format=read_as, answers=answers, layout=layout)
        frame = table.frame
        if frame.empty:
            raise JudgmentTableError(
                "; ".join(table.warnings or [f"{input}: no judgment was read"])
                + "; check --map and --format against the file's fields"
            )
        coding = _coding(
            non_decisive=non_decisive,
            level=level,
            categories=categories,
            responses=responses,
            with_rubric=rubric is not None,
        )
        given = _read_rubric(rubric) if rubric is not None else None
        split = _split_versions(frame, given, version_rubric or [])
        frame = split.current
        checked = check_input(
            frame,
            given,
            normalise_labels=normalise_labels,
            places=RowPlaces(source=str(input), lines=table.lines),
        )
        chosen: Rubric
        inferred: list[str] = []
        if given is not None:
            chosen = given
        else:
            observed = {
                str(name): _distinct(group["value"])
                for name, group in checked.frame.groupby("dimension")
            }
            chosen, inferred = adhoc_rubric(observed, coding)
        source: dict[str, object] = {
            "path": str(input),
            "format": input_format(table),
            "rows": len(table.frame),
        }
        if isinstance(table, PlatformTable):
            source.update(
                skipped=table.skipped,
                gold=table.gold,
                unknown_annotator_judgments=table.unknown_annotators,
                notes=list(table.notes),
            )
        result = build_report(
            frame,
            chosen,
            source=source,
            options=ReportOptions(
                resamples=resamples, seed=seed, min_shared_items=min_shared_items
            ),
            checked=checked,
            warnings=[*inferred, *split.warnings],
            groups=load_groups(groups_path) if groups_path is not None else None,
        )
        result["other_rubric_versions"] = version_sections(
            split,
            options=ReportOptions(
                resamples=resamples, seed=seed, min_shared_items=min_shared_items
            ),
        )
    except ConnectorError as exc:
        raise _fail(str(exc)) from None
    for warning in (*table.warnings, *result["warnings"]):
        err.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
    if isinstance(table, PlatformTable):
        err.print(f"read {input} as {table.platform}:", highlight=False, markup=False)
        for note in table.notes:
            err.print(f"  {note}", highlight=False, markup=False)
    if json_path:
        from connector.report.json_text import report_json

        _write(json_path, report_json(result))
    result = jsonable(result) if (md_path or html_path or not json_path) else result
    if md_path:
        from connector.report.markdown import render_markdown

        _write(md_path, render_markdown(result))
    if html_path:
        from connector.report.html import render_html

        _write(html_path, render_html(result))
    if not (json_path or md_path or html_path):
        from connector.report.console import print_summary

        print_summary(result, Console())
    else:
        for label, path in (("JSON", json_path), ("Markdown", md_path), ("HTML", html_path)):
            if path:
                err.print(f"wrote {label} report to {path}", highlight=False)


def _coding(
    *,
    non_decisive: list[str] | None,
    level: list[str] | None,
    categories: list[str] | None,
    responses: list[str] | None,
    with_rubric: bool,
) -> Coding:
    """The report's coding options; they describe a table given without a rubric."""
    from connector.rubric import Coding, CodingError

    if with_rubric:
        given = [
            option
            for option, values in (
                ("--non-decisive", non_decisive),
                ("--level", level),
                ("--categories", categories),
                ("--responses", responses),
            )
            if values
        ]
        if given:
            raise CodingError(
                f"{', '.join(given)} describe a table given without a rubric; with --rubric, "
                "say it in the rubric (level, values, first/second, non_decisive)"
            )
    pairs: dict[str, tuple[str, str]] = {}
    for name, values in _per_dimension("--responses", responses, "vote=1,2").items():
        split = tuple(v.strip() for v in values.split(","))
        if len(split) != 2 or not all(split):
            raise CodingError(
                f"--responses {name}={values}: write DIMENSION=FIRST,SECOND, e.g. "
                "--responses vote=1,2"
            )
        pairs[name] = (split[0], split[1])
    ordered: dict[str, tuple[str, ...]] = {}
    for name, values in _per_dimension("--categories", categories, "helpfulness=1,2,3").items():
        split = tuple(v.strip() for v in values.split(","))
        if not all(split):
            raise CodingError(f"--categories {name}={values}: a value is empty")
        ordered[name] = split
    return Coding(
        non_decisive=tuple(non_decisive or ("tie",)),
        levels={n: v.strip() for n, v in _per_dimension("--level", level, "x=ordinal").items()},
        categories=ordered,
        responses=pairs,
    )


def _per_dimension(option: str, pairs: list[str] | None, example: str) -> dict[str, str]:
    """``DIMENSION=TEXT`` options as a mapping; a dimension given twice is an error."""
    from connector.rubric import CodingError

    found: dict[str, str] = {}
    for pair in pairs or []:
        name, sep, text = pair.partition("=")
        if not sep or not name.strip() or not text.strip():
            raise CodingError(f"{option} {pair!r}: write DIMENSION=..., e.g. {option} {example}")
        if name.strip() in found:
            raise CodingError(f"{option} names dimension {name.strip()!r} twice")
        found[name.strip()] = text.strip()
    return found


def _split_versions(frame: pd.DataFrame, given: Rubric | None, paths: list[Path]) -> VersionSplit:
    """The table split by rubric version as a sync splits a project's judgments
    (:func:`connector.report.versions.split_by_version`): ``given`` is the current version,
    each ``--version-rubric`` file another one. Without them, every row is the current
    version's, with a warning when the ``rubric_version`` column names several versions.

    Raises:
        RubricError: a version file is unreadable, or one is given without ``--rubric``.
        JudgmentTableError: a version file names no version present in the column.
    """
    from connector.report.versions import VersionSplit, split_by_version

    labels = sorted({str(v) for v in frame["rubric_version"].dropna().unique()})
    if not paths:
        warnings: tuple[str, ...] = ()
        if given is not None and len(labels) > 1:
            warnings = (
                f"the rubric_version column names {len(labels)} versions ({', '.join(labels)}); "
                f"every judgment is scored with rubric {given.ref}: give --version-rubric FILE "
                "for each other version to score its judgments under it, as a sync does",
            )
        return VersionSplit(current=frame, others=(), warnings=warnings, n_rows=len(frame))
    if given is None:
        raise RubricError("--version-rubric needs --rubric (the current version)")
    versions = [_read_rubric(path) for path in paths]
    for path, version in zip(paths, versions, strict=True):
        if version.ref not in labels:
            raise JudgmentTableError(
                f"{path}: rubric {version.ref} names no version of the table's rubric_version "
                f"column ({', '.join(labels) or 'empty'}); the column must hold "
                "<id>@v<version> for its rows to be scored under that file"
            )
    return split_by_version(frame, given, versions)


def _read_rubric(path: Path) -> Rubric:
    """A rubric file from anywhere: the one rule ``report``, ``labelconfig`` and ``rubric
    validate`` read rubrics by (the ``<id>/v<version>.yaml`` layout is checked only by
    ``rubric validate --layout``)."""
    from connector.rubric import load_rubric

    return load_rubric(path, check_layout=False)


def _distinct(values: pd.Series[Any]) -> list[object]:
    """The distinct values of a column of judgment values when hashing cannot merge values
    that differ (``True`` and ``1``): the default rubric needs the set, not every judgment."""
    import pandas as pd

    kind = pd.api.types.infer_dtype(values, skipna=True)
    if kind in ("string", "integer", "floating", "mixed-integer-float", "empty"):
        return list(pd.unique(values))
    return values.tolist()


def _columns(option: str, names: str | None) -> tuple[str, ...]:
    """``--item-col a,b`` as ``("a", "b")``."""
    if names is None:
        return ()
    columns = tuple(name.strip() for name in names.split(","))
    if not all(columns):
        raise JudgmentTableError(f"{option} {names!r}: write COLUMN or COLUMN,COLUMN,...")
    return columns


def _answer_map(pairs: list[str]) -> dict[str, str]:
    """``--map FIELD=DIMENSION`` options as a mapping (a field's name may hold ``=``)."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        field, sep, dimension = pair.rpartition("=")
        if not sep or not field.strip() or not dimension.strip():
            raise JudgmentTableError(
                f"--map {pair!r}: write FIELD=DIMENSION, e.g. --map 'Answer.choice=overall'"
            )
        mapping[field.strip()] = dimension.strip()
    return mapping


@rubric_app.command("validate")
def rubric_validate(
    files: Annotated[list[Path], typer.Argument(help="Rubric YAML files to check.")],
    layout: Annotated[
        bool,
        typer.Option(
            "--layout",
            help="Also require the <id>/v<version>.yaml layout (a rubrics/ directory under "
            "version control).",
        ),
    ] = False,
) -> None:
    """Check rubric files (read by the same rules as report --rubric); print every error of
    each file as file:line: message and exit non-zero on any."""
    from connector.rubric import load_rubric

    failed = False
    for path in files:
        try:
            loaded = load_rubric(path, check_layout=True) if layout else _read_rubric(path)
        except RubricError as exc:
            for problem in exc.problems:
                _error_line(str(problem))
            failed = True
            continue
        except ConnectorError as exc:
            _error_line(str(exc))
            failed = True
            continue
        except OSError as exc:
            err.print(f"[bold red]error:[/] {path}: {exc.strerror}", highlight=False)
            failed = True
            continue
        typer.echo(
            f"ok {path}: {loaded.id} v{loaded.version}, {len(loaded.dimensions)} dimension(s), "
            f"{loaded.content_hash}"
        )
    if failed:
        raise typer.Exit(code=1)


@rubric_app.command("new")
def rubric_new(
    input: Annotated[
        Path,
        typer.Argument(
            help="Judgments whose dimensions and values the rubric should describe (any format "
            "report reads).",
            exists=True,
            dir_okay=False,
        ),
    ],
    rubric_id: Annotated[str, typer.Option("--id", help="The rubric id (a lowercase slug).")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write here (default: print).", dir_okay=False),
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
    read_as: Annotated[
        str | None,
        typer.Option("--format", help="Read JUDGMENTS as this format instead of detecting it."),
    ] = None,
    non_decisive: Annotated[
        list[str] | None,
        typer.Option(metavar="VALUE", help="As for report (repeatable; default: tie)."),
    ] = None,
    level: Annotated[
        list[str] | None, typer.Option(metavar="DIMENSION=LEVEL", help="As for report.")
    ] = None,
    categories: Annotated[
        list[str] | None, typer.Option(metavar="DIMENSION=V1,V2,...", help="As for report.")
    ] = None,
    responses: Annotated[
        list[str] | None, typer.Option(metavar="DIMENSION=FIRST,SECOND", help="As for report.")
    ] = None,
    normalise_labels: Annotated[
        bool, typer.Option("--normalise-labels", help="As for report.")
    ] = False,
) -> None:
    """Write a commented starting rubric from a table's observed dimensions and values: the
    kind and level inferred as report infers them without a rubric, each choice commented."""
    from connector.judgments import load_judgments
    from connector.report.checks import RowPlaces, check_input
    from connector.rubric import adhoc_rubric, parse_rubric
    from connector.rubric.starter import starter_yaml

    if output is not None and output.exists() and not force:
        raise _fail(f"{output} exists; pass --force to overwrite it")
    try:
        coding = _coding(
            non_decisive=non_decisive,
            level=level,
            categories=categories,
            responses=responses,
            with_rubric=False,
        )
        table = load_judgments(input, format=read_as)
        checked = check_input(
            table.frame,
            None,
            normalise_labels=normalise_labels,
            places=RowPlaces(source=str(input), lines=table.lines),
        )
        groups = checked.frame.groupby("dimension")["value"]
        observed = {str(name): values.tolist() for name, values in groups}
        adhoc, inferred = adhoc_rubric(observed, coding)
        counts = {name: Counter(values) for name, values in observed.items()}
        text = starter_yaml(adhoc, rubric_id=rubric_id, source=input.name, counts=counts)
        parse_rubric(text, path=str(output or "<rubric new>"))  # what it writes must parse
    except (ConnectorError, ValueError) as exc:
        raise _fail(str(exc)) from None
    for warning in (*table.warnings, *checked.warnings, *inferred):
        err.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
    if output is None:
        typer.echo(text, nl=False)
        return
    _write(output, text)
    err.print(f"wrote {output}: replace each TODO, then run iaa-connector rubric validate {output}")


ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="Configuration file (see iaa-connector init).")
]

# Options of the commands that read a PROJECT|FILE (consensus, export): one declaration each.
_RulingsOption = Annotated[
    Path | None,
    typer.Option(
        help="Rulings (CSV or JSON Lines with item_id, dimension, value): they win over every "
        "vote.",
        exists=True,
        dir_okay=False,
    ),
]
_SourceRubricOption = Annotated[
    Path | None,
    typer.Option(
        help="Rubric YAML for a FILE (a PROJECT uses its configured rubric).", dir_okay=False
    ),
]
_NonDecisiveOption = Annotated[
    list[str] | None,
    typer.Option(help="Non-decisive value when no rubric is given (repeatable; default: tie)."),
]
_MapOption = Annotated[
    list[str] | None,
    typer.Option("--map", metavar="FIELD=DIMENSION", help="As for report (repeatable)."),
]
_RationaleOption = Annotated[
    list[str] | None, typer.Option(metavar="FIELD", help="As for report (repeatable).")
]


def _error_line(message: str) -> None:
    """One line on stderr: ``error: message`` (the message is never read as Rich markup)."""
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)


def _open_store(config: Config) -> Store:
    """The configured store; if it cannot be opened, one line saying why and where the URL is
    set (never the URL's password), and exit status 1."""
    from connector.store import Store, StoreError

    try:
        return Store.open(config.store_url)
    except StoreError as exc:
        message = str(exc)
        password = _url_password(config.store_url)
        if password:
            message = message.replace(password, "***")
        if isinstance(exc.__cause__, OSError):  # the message says what to do already
            _error_line(f"{message} ([store] url in {config.path})")
        else:
            _error_line(
                f"{message}; check that the database is up and reachable and that [store] url "
                f"in {config.path} names it"
            )
        raise typer.Exit(code=1) from None


def _url_password(url: str) -> str | None:
    from sqlalchemy import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).password
    except (ArgumentError, ValueError):
        return None


def _connect(config_path: Path, project_key: str) -> tuple[Config, Store, Platform]:
    from connector.config import load_config
    from connector.platforms.registry import platform_for

    config = load_config(config_path)
    project = config.project(project_key)
    platform_config = config.platform(project.platform)
    store = _open_store(config)
    return config, store, platform_for(platform_config)


@contextlib.contextmanager
def _sync_lock(store: Store, project_key: str, wait_s: float) -> Iterator[bool]:
    """The project's sync lock (the one ``serve`` takes), trying once a second for up to
    ``wait_s``; yields whether it is held."""
    from connector.service.lock import project_lock

    deadline = time.monotonic() + wait_s
    while True:
        with project_lock(store, project_key) as held:
            if held or time.monotonic() >= deadline:
                yield held
                return
        time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Where to write the example.")] = Path("iaa.toml"),
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented example configuration file."""
    from connector.config import EXAMPLE

    if path.exists() and not force:
        raise _fail(f"{path} exists; pass --force to overwrite it")
    _write(path, EXAMPLE)
    typer.echo(f"wrote {path}: edit the platform URL, project id and rubric, then run sync")


@app.command()
def labelconfig(
    rubric: Annotated[Path, typer.Argument(help="Rubric YAML.", exists=True, dir_okay=False)],
) -> None:
    """Print the Label Studio labeling config generated from a rubric."""
    from connector.platforms.label_studio.labelconfig import generate_label_config

    try:
        typer.echo(generate_label_config(_read_rubric(rubric)))
    except ConnectorError as exc:
        raise _fail(str(exc)) from None


@app.command()
def sync(
    projects: Annotated[
        list[str] | None, typer.Argument(help="Project keys (default: every configured project).")
    ] = None,
    config_path: ConfigOption = Path("iaa.toml"),
    full: Annotated[bool, typer.Option(help="Re-read everything and reconcile deletions.")] = False,
    write_back: Annotated[bool, typer.Option(help="Write reports back to the platform.")] = True,
    import_ground_truth: Annotated[
        bool, typer.Option(help="Take the platform's ground-truth annotations as gold.")
    ] = False,
    wait: Annotated[
        float,
        typer.Option(
            min=0,
            help="Seconds to wait for a project another process is syncing (default: do not wait).",
        ),
    ] = 0.0,
) -> None:
    """Run one sync cycle: pull, reconcile, score annotators, write the report back.

    Each project is synced holding its sync lock, the one iaa-connector serve takes (a
    PostgreSQL advisory lock, or a lock file next to the SQLite database), so a sync from cron
    never runs beside the service's or another's. A project another process is syncing is not
    synced: "project X is being synced by another process" is printed, the other projects are
    synced, and the exit status is 1 (--wait SECONDS tries that long first). Runs a killed
    process left unfinished are marked abandoned. Exit status 1 also if a project failed or the
    store cannot be opened.
    """
    from connector.config import load_config
    from connector.platforms.registry import platform_for
    from connector.service.runner import close_abandoned_runs
    from connector.sync import sync_project

    try:
        config = load_config(config_path)
    except ConnectorError as exc:
        raise _fail(str(exc)) from None
    failed = False
    with _open_store(config) as store:
        for key in projects or [p.key for p in config.projects]:
            try:
                project = config.project(key)
                platform = platform_for(config.platform(project.platform))
                with _sync_lock(store, key, wait) as held:
                    if not held:
                        _error_line(
                            f"project {key} is being synced by another process (iaa-connector "
                            "serve or another sync); it was not synced: run again when that "
                            "sync has finished, or pass --wait SECONDS"
                        )
                        failed = True
                        continue
                    close_abandoned_runs(store, key)
                    result = sync_project(
                        config,
                        key,
                        store=store,
                        platform=platform,
                        full=full,
                        write_back=write_back,
                        import_ground_truth=import_ground_truth,
                    )
            except ConnectorError as exc:
                _error_line(f"{key}: {exc}")
                failed = True
                continue
            alpha = ", ".join(
                f"{name} α={'—' if value is None else f'{value:.3f}'}"
                for name, value in result.alpha.items()
            )
            typer.echo(
                f"{key}: {result.tasks_seen} tasks read, {result.created} judgments new, "
                f"{result.updated} updated, {result.unchanged} unchanged, "
                f"{result.deleted} deleted, {result.skipped} skipped, "
                f"{result.quarantined} quarantined; {len(result.status_changes)} status "
                f"change(s); {alpha}; {result.seconds:.2f} s"
            )
            for change in result.status_changes:
                typer.echo(f"  {change.describe()}")
            if result.reannotated_items:
                typer.echo(
                    f"  {result.reannotated_items} low-agreement item(s) pushed again for more "
                    "judgments (reannotate_on_sync)"
                )
            if result.report_path:
                typer.echo(f"  report: {result.report_path}")
    if failed:
        raise typer.Exit(code=1)


@app.command()
def push(
    project_key: Annotated[str, typer.Argument(help="Project key from the configuration.")],
    items: Annotated[
        Path, typer.Option(help="Items file (JSON Lines).", exists=True, dir_okay=False)
    ],
    config_path: ConfigOption = Path("iaa.toml"),
    kind: Annotated[
        str, typer.Option(help="production, validation or contentious.")
    ] = "production",
    label: Annotated[str, typer.Option(help="Tells apart two batches of the same items.")] = "",
) -> None:
    """Push a calibration batch: the items plus gold and re-tests at the rubric's rates.

    A production batch under a new rubric version is refused until iaa-connector rubric
    promote has accepted the version's validation batch (a project's first version is not).
    """
    from connector.calibration.batch import BATCH_KINDS
    from connector.calibration.gold import load_gold
    from connector.calibration.item import load_items
    from connector.calibration.push import plan_push, push_batch
    from connector.metrics._options import choose
    from connector.rubric import load_rubric

    try:
        config, store, platform = _connect(config_path, project_key)
        project = config.project(project_key)
        rubric = load_rubric(project.rubric, check_layout=False)
        chosen_kind = choose("kind", kind, BATCH_KINDS)
        gold = load_gold(project.gold, rubric) if project.gold else []
        with store:
            store.save_rubric(rubric)
            platform.check_project(project.project_id, rubric)
            plan = plan_push(
                store,
                project.key,
                rubric,
                kind=chosen_kind,
                items=load_items(items, rubric),
                gold=gold,
                label=label,
                now=datetime.now(UTC),
            )
            result = push_batch(plan, project, store=store, platform=platform)
    except ConnectorError as exc:
        raise _fail(str(exc)) from None
    typer.echo(
        f"batch {result.batch_id}: {result.n_tasks} tasks ({plan.count('gold')} gold, "
        f"{plan.count('retest')} re-test), {result.created} created, "
        f"{result.already_present} already present"
    )


webhooks_app = typer.Typer(help="Register the platform's webhooks to this connector.")
app.add_typer(webhooks_app, name="webhooks")


@webhooks_app.command("install")
def webhooks_install(
    project_key: Annotated[str, typer.Argument(help="Project key from the configuration.")],
    url: Annotated[str, typer.Option(help="Where the platform should send events.")],
    config_path: ConfigOption = Path("iaa.toml"),
) -> None:
    """Register (or update) the project's webhook, authenticated by the project's secret."""
    from connector.config import ConfigError

    try:
        config, store, platform = _connect(config_path, project_key)
        store.close()
        project = config.project(project_key)
        secret = os.environ.get(project.webhook_secret_env or "", "")
        if config.platform(project.platform).kind == "label-studio" and not secret:
            raise ConfigError(
                f"{config.path}: project {project_key!r} needs webhook_secret_env naming a set "
                "environment variable (Label Studio sends it back as a header)"
            )
        generated = platform.install_webhook(project.project_id, url=url, secret=secret)
    except ConnectorError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"webhook for {project_key} → {url} installed")
    if generated:
        typer.echo(
            f"the platform generated the signing secret; set it in the connector's environment "
            f"(shown once): {generated}"
        )


@app.command()
def annotators(
    project_key: Annotated[str, typer.Argument(help="Project key from the configuration.")],
    config_path: ConfigOption = Path("iaa.toml"),
    history: Annotated[
        bool, typer.Option(help="Every transition, not only the current status.")
    ] = False,
) -> None:
    """Each annotator's status under the project's rubric, with the evidence it was decided on."""
    from rich.table import Table

    from connector.config import load_config
    from connector.rubric import load_rubric

    try:
        config = load_config(config_path)
        project = config.project(project_key)
        rubric = load_rubric(project.rubric, check_layout=False)
        with _open_store(config) as store:
            if history:
                decisions = store.status_history(project.key, rubric.id)
            else:
                decisions = sorted(
                    store.current_statuses(project.key, rubric.id).values(),
                    key=lambda d: d.annotator,
                )
    except ConnectorError as exc:
        raise _fail(str(exc)) from None
    table = Table(title=f"{project.key}: annotators under {rubric.ref}")
    columns = ("Annotator", "Status", "Since", "Gold", "Accuracy [95% CI]", "Decided by", "Reason")
    for column in columns:
        table.add_column(column, overflow="fold")
    for decision in decisions:
        evidence = decision.evidence
        correct, judged = evidence.get("gold_correct"), evidence.get("gold_judgments")
        interval = evidence.get("wilson")
        accuracy = evidence.get("gold_accuracy")
        shown = "—"
        if isinstance(accuracy, int | float):
            shown = f"{accuracy:.1%}"
            if isinstance(interval, list | tuple) and len(interval) == 2:
                shown += f" [{interval[0]:.1%}, {interval[1]:.1%}]"
        table.add_row(
            decision.annotator,
            decision.status,
            decision.decided_at.strftime("%Y-%m-%d %H:%M"),
            f"{correct}/{judged}" if judged is not None else "—",
            shown,
            ", ".join(str(d) for d in evidence.get("decided_by") or ()) or "—",
            str(evidence.get("reason", "")),
        )
    Console(width=160).print(table)


@app.command()
def doctor(
    config_path: ConfigOption = Path("iaa.toml"),
    strict: Annotated[bool, typer.Option(help="Exit non-zero on warnings too.")] = False,
    timeout: Annotated[
        float, typer.Option(min=0.1, help="Seconds to wait for each platform's answer.")
    ] = 5.0,
) -> None:
    """Check a deployment and say what to fix: configuration and secrets (set or not, never
    shown), each platform's reachability and token (and its kind), each project on its platform
    against its rubric, webhook registration, the store's schema revision and pending
    migrations, the reports directory, the API token. Exit status 1 on any FAIL."""
    from connector.doctor import diagnose, exit_status, render

    findings = diagnose(config_path, timeout_s=timeout)
    typer.echo(render(findings))
    raise typer.Exit(code=exit_status(findings, strict=strict))


@app.command()
def serve(
    config_path: ConfigOption = Path("iaa.toml"),
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8765,
    scheduler: Annotated[
        bool, typer.Option(help="Run the scheduled syncs (off: webhooks only).")
    ] = True,
    log_level: Annotated[
        str, typer.Option(help="critical, error, warning, info, debug or trace.")
    ] = "info",
) -> None:
    """Run the always-on service: webhook receiver, event worker, scheduled syncs, /metrics.

    /metrics and /reports need Authorization: Bearer <token>, the token being the value of the
    environment variable named by [server] api_token_env (default IAA_API_TOKEN). A webhook
    triggers at most one sync per project per [server] webhook_min_interval_seconds. Logs mask
    every configured secret's value and show request paths without their query strings.
    """
    from uvicorn.config import LOG_LEVELS

    from connector.config import load_config
    from connector.service.serve import run_service

    level = LOG_LEVELS.get(log_level.lower())
    if level is None:
        raise _fail(f"--log-level {log_level!r} is not one of {', '.join(LOG_LEVELS)}")
    try:
        config = load_config(config_path)
    except ConnectorError as exc:
        raise _fail(str(exc)) from None
    store = _open_store(config)
    run_service(config, store, host=host, port=port, scheduler=scheduler, level=level)


def _is_project(config_path: Path, key: str) -> bool:
    """Whether a readable configuration names a project ``key`` (an unreadable one names none:
    it does not stand in the way of reading a file)."""
    from connector.config import load_config

    if not config_path.is_file():
        return False
    try:
        return key in {p.key for p in load_config(config_path).projects}
    except ConnectorError:
        return False


# The commands defined in the submodules register themselves on ``app`` when imported.
from connector.cli import dataset as _dataset  # noqa: E402
from connector.cli import program as _program  # noqa: E402

__all__ = ["app", "main"]
_COMMAND_MODULES = (_dataset, _program)


def main() -> None:
    """Console-script entry point.

    ``iaa-connector --version`` is answered before typer parses anything: typer's parameter
    conversion imports pydantic (0.1–0.2 s), more than the whole answer may take.
    """
    if sys.argv[1:] == ["--version"]:
        typer.echo(_version_line())
        return
    app()


if __name__ == "__main__":
    main()
