"""Consensus labels per item and dimension: majority vote and Dawid–Skene, rulings first.

- :mod:`.majority`: the most frequent value, ties reported as ties (pure numpy);
- :mod:`.dawid_skene`: EM over one confusion matrix per annotator (pure numpy);
- :mod:`.adjudication`: rulings (an adjudication file, or the store's adjudicated gold);
- :mod:`.table`: the consensus table of a judgments table under a rubric, and its columns;
- :mod:`.output`: writing the table as CSV, JSON Lines or Parquet.
"""

from connector.consensus.adjudication import Adjudication, load_adjudications
from connector.consensus.dawid_skene import DawidSkeneFit, dawid_skene
from connector.consensus.majority import MajorityVote, majority_vote
from connector.consensus.table import CONSENSUS_COLUMNS, METHODS, consensus_table

__all__ = [
    "CONSENSUS_COLUMNS",
    "METHODS",
    "Adjudication",
    "DawidSkeneFit",
    "MajorityVote",
    "consensus_table",
    "dawid_skene",
    "load_adjudications",
    "majority_vote",
]
