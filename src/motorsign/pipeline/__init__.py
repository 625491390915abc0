"""Batch pipelines: a TOML file of recordings and analyses, run on local
processes or a Dask cluster, resumable, with provenance and an HTML report.

>>> from motorsign.pipeline import load_pipeline, run_pipeline
>>> result = run_pipeline(load_pipeline("pipelines/demo.toml"), "results")  # doctest: +SKIP
"""

from __future__ import annotations

from motorsign.pipeline.analyses import ANALYSES, resolve_analysis
from motorsign.pipeline.config import Pipeline, load_pipeline, parse_pipeline
from motorsign.pipeline.runner import RunResult, run_pipeline

__all__ = ["ANALYSES", "resolve_analysis", "Pipeline", "load_pipeline", "parse_pipeline",
           "RunResult", "run_pipeline"]
