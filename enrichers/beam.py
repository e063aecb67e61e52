"""Enrichment in a Beam pipeline: check the reference data at start-up, hand it to the workers as a
side input.

``prepare`` runs in the launching process before the pipeline is built: it reads and builds everything
once, so a missing or broken reference file stops the run with one line (``ReferenceDataError``, exit
status 2) instead of failing per event. ``side_input`` turns the result into a singleton side input; a
DoFn that takes it calls ``enrichers.context.context_for(reference)``, which builds the indices once per
worker process and caches them by the reference's content digest.
"""

from __future__ import annotations

import apache_beam as beam

from enrichers.context import ReferenceData, prepare

__all__ = ["prepare", "side_input"]


def side_input(pipeline: beam.Pipeline, reference: ReferenceData | None) -> beam.pvalue.AsSingleton | None:
    if reference is None:
        return None
    return beam.pvalue.AsSingleton(pipeline | "EnrichmentData" >> beam.Create([reference]))
