"""Ingest: utility exports (CSV UTF-8/GBK, XLSX, Parquet, a PostgreSQL replica) -> validated, versioned dataset.

``from gridaudit.ingest import ingest`` is the API the CLI, the demo and the tests use.
"""

from gridaudit.ingest.errors import SourceProblem, UnusableSource
from gridaudit.ingest.pipeline import FAILURE_SCHEMA, IngestResult, IngestSettings, ingest

__all__ = ["FAILURE_SCHEMA", "IngestResult", "IngestSettings", "SourceProblem", "UnusableSource", "ingest"]
