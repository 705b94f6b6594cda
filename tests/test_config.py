"""The configuration file: example round trip, errors naming file and key, secrets by env."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.config import EXAMPLE, ConfigError, load_config

REPO = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "rubrics" / "rlhf-pairwise").mkdir(parents=True)
    source = REPO / "rubrics" / "rlhf-pairwise"
    for name in ("v2.yaml", "guidelines-v2.md"):
        (tmp_path / "rubrics" / "rlhf-pairwise" / name).write_text((source / name).read_text())
    path = tmp_path / "iaa.toml"
    path.write_text(text)
    return path


def test_example_loads(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, EXAMPLE))
    project = config.project("pairwise")
    assert project.project_id == "1"
    assert project.rubric == tmp_path / "rubrics/rlhf-pairwise/v2.yaml"
    assert config.store_url == f"sqlite:///{tmp_path / 'iaa-connector.db'}"
    assert config.platform("local-label-studio").kind == "label-studio"
    assert config.alert_after_failed_runs == 1


def test_token_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    platform = load_config(write(tmp_path, EXAMPLE)).platform("local-label-studio")
    monkeypatch.delenv("LABEL_STUDIO_TOKEN", raising=False)
    with pytest.raises(ConfigError) as err:
        platform.token()
    assert str(err.value) == (
        "platform 'local-label-studio': environment variable LABEL_STUDIO_TOKEN (its API token) "
        "is not set"
    )
    monkeypatch.setenv("LABEL_STUDIO_TOKEN", "s3cret")
    assert platform.token() == "s3cret"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("kind = \"label-studio\"", "kind = \"prodigy\""),
         "platforms[0].kind: 'prodigy' is not one of label-studio, argilla"),
        (("project_id = 1 ", "projekt_id = 1 "), "projects[0].projekt_id: unknown key"),
        (("rubrics/rlhf-pairwise/v2.yaml", "rubrics/nope.yaml"),
         "projects[0].rubric: file 'rubrics/nope.yaml' does not exist"),
        (("platform = \"local-label-studio\"", "platform = \"other\""),
         "projects[0].platform: 'other' is not a configured platform ['local-label-studio']"),
        (("sync_interval_minutes = 5", "sync_interval_minutes = -1"),
         "projects[0].sync_interval_minutes: must be a positive number, not -1"),
        (("url = \"http://127.0.0.1:8089\"", "url = \"127.0.0.1:8089\""),
         "platforms[0].url: '127.0.0.1:8089' must start with http:// or https://"),
        (("url = \"http://127.0.0.1:8089\"",
          "url = \"http://127.0.0.1:8089\"\ndataset_report_interval_minutes = 5"),
         "platforms[0].dataset_report_interval_minutes: applies to Argilla only"),
        (("kind = \"label-studio\"", "kind = \"argilla\"\ndataset_report_interval_minutes = -1"),
         "platforms[0].dataset_report_interval_minutes: must be a number of at least 0, not -1"),
        (("failed_runs = 1 ", "failed_runs = 0 "),
         "alerts.failed_runs: must be a whole number of at least 1, not 0"),
        (("failed_runs = 1 ", "failed_runs = 2.5 "),
         "alerts.failed_runs: must be a whole number of at least 1, not 2.5"),
    ],
)  # fmt: skip
def test_errors_name_file_and_key(tmp_path: Path, edit: tuple[str, str], message: str) -> None:
    path = write(tmp_path, EXAMPLE.replace(*edit))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value).startswith(f"{path}: {message}")


def test_missing_file_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_config(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[store\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(bad)


def test_alert_interval_zero_turns_the_rate_limit_off(tmp_path: Path) -> None:
    (tmp_path / "zero").mkdir()
    (tmp_path / "negative").mkdir()
    zero = EXAMPLE.replace("min_interval_seconds = 60", "min_interval_seconds = 0")
    assert load_config(write(tmp_path / "zero", zero)).alert_min_interval_s == 0.0
    negative = EXAMPLE.replace("min_interval_seconds = 60", "min_interval_seconds = -1")
    bad = write(tmp_path / "negative", negative)
    with pytest.raises(ConfigError, match=r"alerts\.min_interval_seconds: must be a number of"):
        load_config(bad)
