"""An export fed to TRL itself: a few steps of ``RewardTrainer`` on a tiny, randomly initialised
model and a word-level tokenizer, both built here from a config (nothing downloaded).

Marked ``trl`` (needs torch, transformers and trl, which the development install of the
Makefile installs): ``pytest -m "not trl"`` leaves it out where they are not installed.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from test_export import V2, _table, _write
from typer.testing import CliRunner

from connector.cli import app

pytestmark = pytest.mark.trl


def _export(tmp_path: Path, *extra: str) -> Path:
    source = _write(_table(seed=7, n_items=40), tmp_path / "judgments.jsonl")
    out = tmp_path / f"pairs{'-'.join(extra)}.parquet"
    result = CliRunner().invoke(
        app, ["export", str(source), "--rubric", str(V2), "--out", str(out), *extra]
    )
    assert result.exit_code == 0, result.output
    return out


# TRL 1.16's RewardConfig sets transformers' gradient_checkpointing, which transformers 5.25
# renames (a warning between the two libraries, not about the export)
@pytest.mark.filterwarnings("ignore:`gradient_checkpointing` is deprecated:FutureWarning")
def test_reward_trainer_trains_on_the_export(tmp_path: Path) -> None:
    import datasets
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForSequenceClassification, PreTrainedTokenizerFast
    from trl import RewardConfig, RewardTrainer

    out = _export(tmp_path)
    train = datasets.load_dataset("parquet", data_files=str(out), split="train")
    assert train.num_rows >= 8
    assert {"prompt", "chosen", "rejected", "margin"} <= set(train.column_names)

    words = sorted(
        {w for row in train for key in ("prompt", "chosen", "rejected") for w in row[key].split()}
    )
    vocab = {token: i for i, token in enumerate(["[PAD]", "[UNK]", "[EOS]", *words])}
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core, pad_token="[PAD]", unk_token="[UNK]", eos_token="[EOS]"
    )
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=64,
        num_labels=1,
        pad_token_id=0,
        eos_token_id=2,
    )
    model = LlamaForSequenceClassification(config)
    args = RewardConfig(
        output_dir=str(tmp_path / "reward"),
        max_steps=4,
        per_device_train_batch_size=4,
        learning_rate=1e-3,
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        use_cpu=True,
        max_length=64,
        seed=0,
    )
    trainer = RewardTrainer(model=model, args=args, train_dataset=train, processing_class=tokenizer)
    result = trainer.train()
    assert result.global_step == 4
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    assert len(losses) == 4
    assert all(math.isfinite(loss) for loss in losses)
    # the margin reached the loss: TRL's collator carries the export's margins as a tensor
    batch = trainer.data_collator([trainer.train_dataset[i] for i in range(2)])
    assert batch["margin"].tolist() == [float(train[i]["margin"]) for i in range(2)]


def test_chat_rows_are_trl_conversational(tmp_path: Path) -> None:
    from trl.data_utils import is_conversational

    out = _export(tmp_path, "--chat")
    import pandas as pd

    rows = pd.read_parquet(out).to_dict("records")
    first = json.loads(json.dumps(rows[0], default=list))
    assert is_conversational(first)
    assert first["prompt"][0]["role"] == "user"
    assert first["chosen"][0]["role"] == "assistant"
