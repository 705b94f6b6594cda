"""Annotator quality: the one owner of who is qualified, flagged, retrained or suspended.

- :mod:`~connector.quality.lifecycle`     the status machine (candidate → qualified ⇄ probation →
  retraining → qualified; suspended), every transition with its evidence
- :mod:`~connector.quality.streams`       each annotator's gold and consensus streams, in time order
- :mod:`~connector.quality.gold_release`  when reports may show an annotator's gold figures

The CUSUM maths the streams are charted with is in :mod:`connector.metrics.cusum`.
"""
