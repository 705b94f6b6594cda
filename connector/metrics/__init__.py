"""The agreement engine: pure numpy, arrays in, numbers out (no I/O, no platform, no store).

Coefficients take a units × raters table (list of lists, ndarray or DataFrame; ``None``/``NaN``
= missing) and keyword options, and return a float. Undefined results (no variation at all,
so 0/0) are ``nan``; a table with no unit carrying two ratings raises
:class:`~connector.errors.InsufficientDataError`.
"""

from connector.errors import InsufficientDataError, OptionError
from connector.metrics.cohen import cohen_kappa, scott_pi
from connector.metrics.krippendorff import IncrementalAlpha, krippendorff_alpha
from connector.metrics.multirater import (
    brennan_prediger,
    fleiss_kappa,
    gwet_ac1,
    percent_agreement,
)

__all__ = [
    "IncrementalAlpha",
    "InsufficientDataError",
    "OptionError",
    "brennan_prediger",
    "cohen_kappa",
    "fleiss_kappa",
    "gwet_ac1",
    "krippendorff_alpha",
    "percent_agreement",
    "scott_pi",
]
