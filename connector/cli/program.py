"""The commands of the calibration program: ``rubric promote``, ``reannotate``,
``adjudication queue|pull|log`` and ``calibration-session``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from connector.cli import (
    ConfigOption,
    _connect,
    _error_line,
    _fail,
    _open_store,
    _write,
    app,
    err,
    rubric_app,
)
from connector.errors import ConnectorError, JudgmentTableError

if TYPE_CHECKING:
    from connector.config import ProjectConfig
    from connector.platforms.adjudication import AdjudicationDesk
    from connector.rubric import Rubric
    from connector.store import Store


@rubric_app.command("promote")
def rubric_promote(
    project_key: Annotated[str, typer.Argument(help="Project key from the configuration.")],
    version: Annotated[str, typer.Argument(help="The rubric version to promote (2 or v2).")],
    config_path: ConfigOption = Path("iaa.toml"),
    by: Annotated[
        str | None, typer.Option(help="Who promotes (stored with the promotion; default: $USER).")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Also write the gate report here (.json or .md).", dir_okay=False),
    ] = None,
) -> None:
    """Run the validation gate of a rubric version and, when it accepts, promote the version
    to production for the project (stored with who, when and the gate report).

    Reads what the store holds: sync first. Exit status 0 when the version is promoted (now,
    or earlier: a promotion stands), 1 when the gate does not accept (the lines after
    "missing:" say which items, dimensions, bounds and how many more judgments), 2 for a usage
    error.
    """
    import getpass

    from connector.calibration.promotion import promote, resolve_version
    from connector.config import load_config
    from connector.report.json_text import report_json
    from connector.rubric import load_rubric

    if out is not None and out.suffix not in (".json", ".md"):
        raise _fail(f"--out {out}: name a .json or .md file")
    try:
        config = load_config(config_path)
        project = config.project(project_key)
        configured = load_rubric(project.rubric, check_layout=False)
        with _open_store(config) as store:
            rubric = resolve_version(store, configured, version)
            now = datetime.now(UTC)
            gate, promotion = promote(
                store, project.key, rubric, by=by or getpass.getuser(), now=now
            )
    except ConnectorError as exc:
        raise _fail(str(exc)) from None
    for line in gate.lines():
        typer.echo(line)
    if out is not None:
        text = report_json(gate.as_json()) if out.suffix == ".json" else gate.as_markdown() + "\n"
        _write(out, text)
        typer.echo(f"wrote {out}")
    if promotion is None:
        _error_line(f"{rubric.ref} not promoted for {project.key}: the gate says {gate.state}")
        raise typer.Exit(code=1)
    if promotion.promoted_at != now:
        typer.echo(
            f"{rubric.ref} was promoted for project {project.key} by {promotion.promoted_by} at "
            f"{promotion.promoted_at.isoformat()}"
            + ("" if gate.accepted else f"; the gate now says {gate.state} (the promotion stands)")
        )
        return
    typer.echo(f"promoted {rubric.ref} for project {project.key}")


@app.command()
def reannotate(
    project_key: Annotated[str, typer.Argument(help="Project key from the configuration.")],
    config_path: ConfigOption = Path("iaa.toml"),
    below: Annotated[
        float | None,
        typer.Option(help="Per-item agreement threshold (default: reannotate_below)."),
    ] = None,
    max_per_item: Annotated[
        int | None,
        typer.Option(help="Most judgments per item (default: reannotate_max_judgments)."),
    ] = None,
) -> None:
    """Push low-agreement items again for more annotators, up to a maximum per item."""
    from connector.calibration.reannotation import reannotate as run
    from connector.calibration.versions import current_judgments
    from connector.report.build import item_agreements
    from connector.rubric import load_rubric

    try:
        config, store, platform = _connect(config_path, project_key)
        project = config.project(project_key)
        rubric = load_rubric(project.rubric, check_layout=False)
        with store:
            store.save_rubric(rubric)
            frame = current_judgments(store, project.key, rubric).current
            result = run(
                project,
                rubric,
                store=store,
                platform=platform,
                frame=frame,
                agreements=item_agreements(frame, rubric),
                below=project.reannotate_below if below is None else below,
                max_judgments=(
                    project.reannotate_max_judgments if max_per_item is None else max_per_item
                ),
                now=datetime.now(UTC),
            )
    except ConnectorError as exc:
        raise _fail(str(exc)) from None
    typer.echo(result.describe())


adjudication_app = typer.Typer(
    help="Queue low-agreement items for a senior annotator's ruling; pull and log the rulings.",
    no_args_is_help=True,
)
app.add_typer(adjudication_app, name="adjudication")


def _adjudication_context(
    config_path: Path, project_key: str
) -> tuple[ProjectConfig, Rubric, Store, AdjudicationDesk]:
    from connector.config import load_config
    from connector.platforms.registry import adjudication_desk_for
    from connector.rubric import load_rubric

    config = load_config(config_path)
    project = config.project(project_key)
    rubric = load_rubric(project.rubric, check_layout=False)
    desk = adjudication_desk_for(config.platform(project.adjudication_platform or project.platform))
    return project, rubric, _open_store(config), desk


@adjudication_app.command("queue")
def adjudication_queue(
    project_key: Annotated[str, typer.Argument(help="Project key from the configuration.")],
    below: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Queue items whose agreement is below this (default: the project's "
            "adjudication_below).",
        ),
    ] = None,
    dimension: Annotated[
        list[str] | None, typer.Option(help="Only this dimension (repeatable; default: all).")
    ] = None,
    config_path: ConfigOption = Path("iaa.toml"),
) -> None:
    """Send items below an agreement threshold (per dimension; gold never) to the
    adjudication project, each item and dimension once. docs/adjudication.md."""
    from connector.calibration.adjudication import queue_adjudications
    from connector.calibration.push import task_key_secret
    from connector.report.build import item_agreements

    try:
        project, rubric, store, desk = _adjudication_context(config_path, project_key)
        with store:
            result = queue_adjudications(
                project,
                rubric,
                store=store,
                platform=desk,
                key_secret=task_key_secret(store),
                figures=item_agreements,
                below=below,
                dimensions=tuple(dimension or ()),
            )
    except ConnectorError as exc:
        raise _fail(escape(str(exc))) from None
    typer.echo(
        f"{result.candidates} item-dimension(s) below {result.below:g}: {result.queued_now} "
        f"queued now, {result.already_queued} queued before, {result.tasks_created} task(s) "
        f"created; {result.gold_left_out} gold item-dimension(s) left out"
    )


@adjudication_app.command("pull")
def adjudication_pull(
    project_key: Annotated[str, typer.Argument(help="Project key from the configuration.")],
    config_path: ConfigOption = Path("iaa.toml"),
) -> None:
    """Read the senior annotators' answers from the adjudication project and store them as
    rulings (who, when, why); they win in the consensus and are never judgments."""
    from connector.calibration.adjudication import pull_adjudications

    try:
        project, rubric, store, desk = _adjudication_context(config_path, project_key)
        with store:
            result = pull_adjudications(project, rubric, store=store, platform=desk)
    except ConnectorError as exc:
        raise _fail(escape(str(exc))) from None
    for problem in result.problems:
        err.print(f"[yellow]warning:[/] {escape(problem)}", highlight=False)
    typer.echo(
        f"{result.answers} answer(s) read: {result.recorded} ruling(s) recorded, "
        f"{len(result.problems)} not recorded"
        + (f", {result.other_projects} on other projects' tasks" if result.other_projects else "")
    )


@adjudication_app.command("log")
def adjudication_log(
    project_key: Annotated[str, typer.Argument(help="Project key from the configuration.")],
    log_format: Annotated[str, typer.Option("--format", help="csv or jsonl.")] = "csv",
    out: Annotated[
        Path | None,
        typer.Option(help="Write the log here (default: standard output).", dir_okay=False),
    ] = None,
    config_path: ConfigOption = Path("iaa.toml"),
) -> None:
    """Every ruling of the project (adjudication and calibration sessions): item, dimension,
    value, reason, who ruled, when, and where from."""
    from connector.calibration.adjudication import ruling_log_text
    from connector.config import load_config

    try:
        config = load_config(config_path)
        project = config.project(project_key)
        with _open_store(config) as store:
            text = ruling_log_text(store.ruling_log(project.key), format=log_format)
    except ConnectorError as exc:
        raise _fail(escape(str(exc))) from None
    if out is None:
        typer.echo(text, nl=False)
        return
    _write(out, text)
    err.print(f"wrote the ruling log to {out}", highlight=False, markup=False)


@app.command("calibration-session")
def calibration_session(
    project_key: Annotated[str, typer.Argument(help="Project key from the configuration.")],
    size: Annotated[int, typer.Option(min=1, help="How many items the pack holds.")] = 20,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Directory for the pack (default: <reports dir>/calibration-sessions).",
            file_okay=False,
        ),
    ] = None,
    session: Annotated[
        str | None,
        typer.Option(help="The session id (default for a new pack: cs-<UTC time>)."),
    ] = None,
    rulings: Annotated[
        Path | None,
        typer.Option(
            help="Record this session's rulings (CSV or JSON Lines: item_id, dimension, value, "
            "reason, ruled_by) instead of writing a pack.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    compare_batch: Annotated[
        str | None,
        typer.Option(
            metavar="BATCH",
            help="Agreement on the session's ruled items before and after their re-annotation "
            "in BATCH (a batch id), with intervals.",
        ),
    ] = None,
    make_gold: Annotated[
        bool,
        typer.Option(
            "--make-gold",
            help="With --rulings: the ruled items also become gold (rulers must be gold "
            "authors; only under a new rubric version).",
        ),
    ] = False,
    config_path: ConfigOption = Path("iaa.toml"),
) -> None:
    """Write a discussion pack of the most contentious items (Markdown, HTML, a rulings
    template), or record the session's rulings. docs/calibration-sessions.md."""
    from connector.calibration.pack import pack_html, pack_markdown, rulings_template
    from connector.calibration.session import (
        SessionRuling,
        plan_session,
        record_session_rulings,
        session_change,
    )
    from connector.config import load_config
    from connector.consensus import load_adjudications
    from connector.consensus.adjudication import resolve
    from connector.report.build import build_report, item_agreements
    from connector.rubric import load_rubric

    now = datetime.now(UTC)
    try:
        config = load_config(config_path)
        project = config.project(project_key)
        rubric = load_rubric(project.rubric, check_layout=False)
        if rulings is None and make_gold:
            raise JudgmentTableError("--make-gold: only with --rulings FILE")
        if rulings is not None and not session:
            raise JudgmentTableError("--rulings: name the session they belong to (--session ID)")
        if compare_batch is not None and (not session or rulings is not None):
            raise JudgmentTableError("--compare-batch: with --session ID and without --rulings")
        with _open_store(config) as store:
            if compare_batch is not None:
                ruled = {
                    r.item_key
                    for r in store.ruling_log(project.key)
                    if r.source == "calibration" and r.source_ref == session
                }
                if not ruled:
                    raise JudgmentTableError(
                        f"session {session!r} has no rulings recorded in project "
                        f"{project.key!r}; record them first (--rulings FILE)"
                    )
                # Before and after straddle the version change the rulings led to: the ruled
                # items' judgments of every version, on the configured rubric's dimensions.
                frame = store.judgments_frame(project.key, item_keys=ruled)
                frame = frame[frame["dimension"].isin([d.name for d in rubric.dimensions])]
                changes = session_change(
                    frame.reset_index(drop=True),
                    rubric,
                    items=ruled,
                    batch=compare_batch,
                    summarise=build_report,
                )
                for change in changes:
                    typer.echo(_change_line(change))
                return
            if rulings is None:
                session_id = session or f"cs-{now:%Y%m%d-%H%M%S}"
                entries = plan_session(
                    store, project.key, rubric, figures=item_agreements, size=size
                )
                folder = out or config.reports_dir / "calibration-sessions"
                for suffix, render in ((".md", pack_markdown), (".html", pack_html)):
                    text = render(
                        entries,
                        rubric,
                        project=project.key,
                        session_id=session_id,
                        generated_at=now,
                    )
                    _write(folder / f"{session_id}{suffix}", text)
                _write(folder / f"{session_id}-rulings.csv", rulings_template(entries))
                typer.echo(
                    f"session {session_id}: {len(entries)} item(s) in {folder}/{session_id}"
                    ".{md,html} (rulings template: " + f"{session_id}-rulings.csv)"
                )
                return
            found = load_adjudications(rulings)
            matched = resolve(found, rubric)
            by_where = {a.where: a for a in found}
            decisions = record_session_rulings(
                store,
                project.key,
                rubric,
                [
                    SessionRuling(
                        item_key=item,
                        dimension=dimension,
                        value=value,
                        reason=by_where[where].reason,
                        ruled_by=by_where[where].ruled_by,
                        where=where,
                    )
                    for (item, dimension), (value, where) in matched.items()
                ],
                session_id=str(session),
                at=now,
                make_gold=make_gold,
                gold_authors=project.gold_authors,
            )
    except ConnectorError as exc:
        raise _fail(escape(str(exc))) from None
    typer.echo(f"session {session}: {len(matched)} ruling(s) recorded")
    for decision in decisions:
        state = "gold" if decision.accepted else "not gold"
        typer.echo(f"  {decision.item_key} {decision.dimension}: {state}: {decision.reason}")


def _change_line(change: Any) -> str:
    """``overall: 12 items; alpha before 0.21 [0.05, 0.40], after 0.78 [0.61, 0.90], +0.57``."""

    def side(entry: Any) -> str:
        value, interval = entry.get("value"), entry.get("ci95")
        if value is None:
            return "undefined"
        shown = f"{value:.3f}"
        if interval:
            return f"{shown} [{interval[0]:.3f}, {interval[1]:.3f}]"
        return f"{shown} (no interval: {entry.get('no_interval', 'undefined')})"

    delta = change.change
    moved = "undefined" if delta is None else f"{delta:+.3f}"
    return (
        f"{change.dimension}: {change.n_items} item(s); alpha before {side(change.before)}, "
        f"after {side(change.after)}, change {moved}"
    )
