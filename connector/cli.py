"""The ``iaa-connector`` command line: ``report`` and ``rubric validate``.

Errors the user can fix (a bad rubric, a bad input table, an unknown option) print one clear
line on stderr and exit with status 2; they never show a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from connector import __version__
from connector.errors import ConnectorError
from connector.judgments import load_judgments
from connector.report.build import ReportOptions, build_report, jsonable
from connector.rubric import Rubric, default_rubric_for, load_rubric

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
        typer.echo(f"iaa-connector {__version__}")
        raise typer.Exit()


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@app.command()
def report(
    input: Annotated[
        Path,
        typer.Argument(
            help="Judgments: canonical JSONL/CSV/Parquet, a Label Studio JSON export, or an "
            "Argilla export.",
            exists=True,
            dir_okay=False,
        ),
    ],
    rubric: Annotated[
        Path | None,
        typer.Option(help="Rubric YAML; without it every dimension is nominal.", dir_okay=False),
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
        typer.Option(help="Non-decisive value when no rubric is given (repeatable; default: tie)."),
    ] = None,
    resamples: Annotated[int, typer.Option(min=0, help="Bootstrap resamples (0: none).")] = 1000,
    seed: Annotated[int, typer.Option(help="Bootstrap seed.")] = 0,
    min_shared_items: Annotated[
        int, typer.Option(min=1, help="Least shared items for an annotator pair to be listed.")
    ] = 5,
) -> None:
    """Compute the agreement report of a judgments table."""
    try:
        table = load_judgments(input)
        frame = table.frame
        chosen: Rubric
        if rubric is not None:
            chosen = load_rubric(rubric, check_layout=False)
        else:
            observed = {
                str(name): group["value"].tolist() for name, group in frame.groupby("dimension")
            }
            chosen = default_rubric_for(observed, non_decisive=tuple(non_decisive or ("tie",)))
        result = build_report(
            frame,
            chosen,
            source={"path": str(input), "format": table.format, "rows": len(frame)},
            options=ReportOptions(
                resamples=resamples, seed=seed, min_shared_items=min_shared_items
            ),
        )
    except ConnectorError as exc:
        raise _fail(str(exc)) from None
    for warning in table.warnings:
        err.print(f"[yellow]warning:[/] {warning}", highlight=False)
    result = jsonable(result)
    if json_path:
        _write(json_path, json.dumps(result, indent=2, ensure_ascii=False) + "\n")
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


@rubric_app.command("validate")
def rubric_validate(
    files: Annotated[list[Path], typer.Argument(help="Rubric YAML files to check.")],
) -> None:
    """Check rubric files; print each error as file:line: message and exit non-zero on any."""
    failed = False
    for path in files:
        try:
            loaded = load_rubric(path)
        except ConnectorError as exc:
            err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
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


def main() -> None:
    """Console-script entry point."""
    app()
