"""iaa-connector: inter-annotator agreement and annotator quality for human preference data."""

__version__ = "0.1.0"
