"""The commands that turn judgments into a dataset: ``consensus`` and ``export``, and their
reader of a PROJECT|FILE argument.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from connector.cli import (
    ConfigOption,
    _answer_map,
    _fail,
    _is_project,
    _MapOption,
    _NonDecisiveOption,
    _open_store,
    _RationaleOption,
    _RulingsOption,
    _SourceRubricOption,
    app,
    err,
)
from connector.errors import ConnectorError, JudgmentTableError
from connector.judgments.formats import INPUT_FORMATS

if TYPE_CHECKING:
    import pandas as pd

    from connector.config import Config, ProjectConfig
    from connector.consensus.adjudication import Adjudication
    from connector.rubric import Rubric


@app.command()
def consensus(
    source: Annotated[
        str,
        typer.Argument(
            metavar="PROJECT|FILE",
            help="A judgments file (any format report reads), or a project key of the "
            "configuration whose synced judgments the store holds.",
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            help="Write the table here: .csv, .jsonl/.ndjson or .parquet (default: "
            "CSV on standard output).",
            dir_okay=False,
        ),
    ] = None,
    method: Annotated[
        list[str] | None,
        typer.Option(help="majority or dawid-skene (repeatable; default: both, one row each)."),
    ] = None,
    adjudicated: _RulingsOption = None,
    rubric: _SourceRubricOption = None,
    non_decisive: _NonDecisiveOption = None,
    read_as: Annotated[
        str | None,
        typer.Option("--format", help=f"Read FILE as: {', '.join(INPUT_FORMATS)}."),
    ] = None,
    answer_map: _MapOption = None,
    rationale: _RationaleOption = None,
    max_iter: Annotated[int, typer.Option(min=0, help="Dawid-Skene: most EM iterations.")] = 100,
    tol: Annotated[
        float,
        typer.Option(
            min=0,
            help="Dawid-Skene: stop when the log-likelihood per judgment grows by less than this.",
        ),
    ] = 1e-6,
    config_path: ConfigOption = Path("iaa.toml"),
) -> None:
    """Consensus label per item and dimension (majority vote, Dawid-Skene; rulings win), with
    confidence, vote counts and vote shares. Columns: docs/consensus.md."""
    from connector.consensus import consensus_table
    from connector.consensus.output import output_format, to_csv_text, write_consensus

    try:
        if out is not None:
            output_format(out)
        read = _read_judgments(
            source,
            config_path=config_path,
            adjudicated=adjudicated,
            rubric=rubric,
            non_decisive=non_decisive,
            read_as=read_as,
            answer_map=answer_map,
            rationale=rationale,
        )
        frame, chosen, rulings = read.frame, read.rubric, list(read.rulings)
        result = consensus_table(
            frame,
            chosen,
            methods=method or ("majority", "dawid-skene"),
            adjudications=rulings,
            max_iter=max_iter,
            tol=tol,
        )
        if out is not None:
            kind = write_consensus(result, out)
    except ConnectorError as exc:
        raise _fail(escape(str(exc))) from None
    if out is None:
        typer.echo(to_csv_text(result), nl=False)
        return
    ties = int(result["tied"].sum()) if len(result) else 0
    ruled = int(result["adjudicated"].sum()) if len(result) else 0
    err.print(
        f"wrote {len(result)} consensus rows ({ties} tied, {ruled} adjudicated) as {kind} to {out}",
        highlight=False,
        markup=False,
    )


@app.command()
def export(
    source: Annotated[
        str,
        typer.Argument(
            metavar="PROJECT|FILE",
            help="A judgments file (any format report reads), or a project key of the "
            "configuration whose synced judgments the store holds.",
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            help="Write the rows here (.jsonl/.ndjson or .parquet); the non-decisive items go "
            "to NAME.non_decisive.EXT and the dataset card to NAME.card.md beside it.",
            dir_okay=False,
        ),
    ],
    export_format: Annotated[
        str,
        typer.Option(
            "--format",
            help="trl: prompt/chosen/rejected/margin rows (RewardTrainer, DPOTrainer); kto: "
            "unpaired prompt/completion/label rows.",
        ),
    ] = "trl",
    chat: Annotated[bool, typer.Option(help="Prompt and responses as chat message lists.")] = False,
    method: Annotated[str, typer.Option(help="Consensus: majority or dawid-skene.")] = "majority",
    dimension: Annotated[
        str | None,
        typer.Option(help="The preference dimension (default: the rubric's only one)."),
    ] = None,
    margin: Annotated[
        str | None,
        typer.Option(
            help="strength or confidence (default: strength when the rubric has one: a signed "
            "preference scale, or a rating dimension named strength)."
        ),
    ] = None,
    min_agreement: Annotated[
        float | None, typer.Option(min=0, max=1, help="Leave out items below this agreement.")
    ] = None,
    min_confidence: Annotated[
        float | None,
        typer.Option(min=0, max=1, help="Leave out items below this consensus confidence."),
    ] = None,
    exclude_flagged: Annotated[
        bool,
        typer.Option(
            "--exclude-flagged/--keep-flagged",
            help="Leave out the votes of annotators in probation, retraining or suspended "
            "(the consensus is computed without them).",
        ),
    ] = True,
    exclude_gold: Annotated[
        bool, typer.Option("--exclude-gold/--include-gold", help="Leave out gold items.")
    ] = True,
    items: Annotated[
        Path | None,
        typer.Option(
            help="Texts: JSON Lines, CSV or Parquet with item_id (or item_key), prompt, "
            "response_a, response_b (wins over the FILE's or store's texts).",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    skip_missing_text: Annotated[
        bool,
        typer.Option(help="Leave out (and count) items without texts instead of failing."),
    ] = False,
    adjudicated: _RulingsOption = None,
    rubric: _SourceRubricOption = None,
    non_decisive: _NonDecisiveOption = None,
    read_as: Annotated[
        str | None,
        typer.Option("--read-as", help=f"Read FILE as: {', '.join(INPUT_FORMATS)}."),
    ] = None,
    answer_map: _MapOption = None,
    rationale: _RationaleOption = None,
    config_path: ConfigOption = Path("iaa.toml"),
) -> None:
    """Export consensus preference pairs for reward-model training (TRL), with provenance, a
    sidecar of non-decisive items and a dataset card. Details: docs/export.md."""
    from connector.consensus.export import ExportOptions, build_export
    from connector.consensus.export_files import export_paths, write_export
    from connector.consensus.export_source import export_input

    try:
        export_paths(out)
        read = _read_judgments(
            source,
            config_path=config_path,
            adjudicated=adjudicated,
            rubric=rubric,
            non_decisive=non_decisive,
            read_as=read_as,
            answer_map=answer_map,
            rationale=rationale,
        )
        if read.project is not None and read.config is not None:
            with _open_store(read.config) as store:
                given = export_input(
                    read.frame,
                    read.rubric,
                    rulings=read.rulings,
                    items=items,
                    store=store,
                    project_key=read.project.key,
                )
        else:
            given = export_input(
                read.frame,
                read.rubric,
                rulings=read.rulings,
                items=items,
                path=read.path,
                lines=read.lines,
            )
        options = ExportOptions(
            format=export_format,  # type: ignore[arg-type]  # checked by build_export
            method=method,  # type: ignore[arg-type]
            dimension=dimension,
            margin=margin,  # type: ignore[arg-type]
            min_agreement=min_agreement,
            min_confidence=min_confidence,
            exclude_flagged=exclude_flagged,
            exclude_gold=exclude_gold,
            skip_missing_text=skip_missing_text,
            chat=chat,
        )
        result = build_export(given, options)
        paths = write_export(result, out, command=" ".join(["iaa-connector", *sys.argv[1:]]))
    except ConnectorError as exc:
        raise _fail(escape(str(exc))) from None
    say = err.print
    say(
        f"wrote {result.pairs} pairs ({len(result.rows)} {export_format} rows, margin from "
        f"{result.margin_source}) to {paths.rows}",
        highlight=False,
        markup=False,
    )
    say(
        f"wrote {len(result.non_decisive)} non-decisive items (ties, both-bad, tied votes) "
        f"with their votes to {paths.non_decisive}",
        highlight=False,
        markup=False,
    )
    for removal in result.removals:
        say(
            f"  left out {removal.count} {removal.unit}: {removal.reason}",
            highlight=False,
            markup=False,
        )
    say(f"wrote the dataset card to {paths.card}", highlight=False, markup=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Judgments:
    """Judgments read for ``consensus`` and ``export``: from a FILE (``path``, with its file
    ``lines``) or a PROJECT's store (``project``, ``config``)."""

    frame: pd.DataFrame
    rubric: Rubric
    rulings: tuple[Adjudication, ...]
    path: Path | None = None
    lines: Sequence[int] | None = None
    project: ProjectConfig | None = None
    config: Config | None = None


def _read_judgments(
    source: str,
    *,
    config_path: Path,
    adjudicated: Path | None,
    rubric: Path | None,
    non_decisive: list[str] | None,
    read_as: str | None,
    answer_map: list[str] | None,
    rationale: list[str] | None,
) -> _Judgments:
    """A PROJECT|FILE argument's judgments, rubric and rulings (the options for a FILE are
    refused with a PROJECT; a name that is both is refused as ambiguous)."""
    from connector.calibration.versions import current_judgments
    from connector.config import load_config
    from connector.consensus import load_adjudications
    from connector.consensus.adjudication import project_rulings
    from connector.judgments import AnswerMap, load_judgments
    from connector.judgments.rankings import assemble_rankings
    from connector.report.checks import RowPlaces
    from connector.rubric import default_rubric_for, load_rubric

    rulings: list[Adjudication] = load_adjudications(adjudicated) if adjudicated else []
    path = Path(source)
    if path.is_file():
        if _is_project(config_path, source):
            raise JudgmentTableError(
                f"{source!r} is both a file and a project of {config_path}; write ./{source} "
                "for the file, or move the file"
            )
        answers = AnswerMap(
            dimensions=_answer_map(answer_map or []), rationale=tuple(rationale or ())
        )
        table = load_judgments(path, format=read_as, answers=answers)
        frame = table.frame
        for warning in table.warnings:
            err.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
        if frame.empty:
            raise JudgmentTableError(f"{path}: no judgment was read")
        chosen: Rubric
        if rubric is not None:
            chosen = load_rubric(rubric, check_layout=False)
        else:
            observed = {
                str(name): group["value"].tolist() for name, group in frame.groupby("dimension")
            }
            chosen = default_rubric_for(observed, non_decisive=tuple(non_decisive or ("tie",)))
        # a platform export's per-option ranks (order.a, ...) back into rankings, as the
        # report reads them (connector/report/checks.py)
        lines = table.lines
        places = RowPlaces(source=str(path), lines=lines)
        frame, assembled = assemble_rankings(
            frame, chosen, where=lambda label: places.name(int(label))
        )
        for warning in assembled:
            err.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
        if assembled:
            lines = None if lines is None else [lines[int(i)] for i in frame.index]
            frame = frame.reset_index(drop=True)
        return _Judgments(
            frame=frame, rubric=chosen, rulings=tuple(rulings), path=path, lines=lines
        )
    if not config_path.is_file():
        raise JudgmentTableError(
            f"{source}: no such file, and no configuration {config_path} to find a "
            "project of that name in (pass --config)"
        )
    config = load_config(config_path)
    project = config.project(source)
    file_options = [
        name
        for name, given in (
            ("--rubric", rubric),
            ("--format", read_as),
            ("--map", answer_map),
            ("--rationale", rationale),
            ("--non-decisive", non_decisive),
        )
        if given
    ]
    if file_options:
        raise JudgmentTableError(
            f"{', '.join(file_options)}: for a judgments FILE only; project {source!r} "
            f"is read from the store with its configured rubric {project.rubric}"
        )
    chosen = load_rubric(project.rubric, check_layout=False)
    with _open_store(config) as store:
        # the configured version's judgments (and other versions' of unchanged dimensions)
        frame = current_judgments(store, project.key, chosen).current
        rulings += project_rulings(
            store.current_rulings(project.key).values(), store.gold_for(project.key).values()
        )
    return _Judgments(
        frame=frame, rubric=chosen, rulings=tuple(rulings), project=project, config=config
    )
