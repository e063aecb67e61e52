"""Beam composition.

* ``batch.py`` and ``streaming.py``: the two pipelines, short compositions of the stages;
* ``stages/``: the composites both share (normalize+enrich, dedup, cold storage, dead letters; sinks are
  ``sinks/``; detection plugs in after dedup), plain Beam on every runner;
* ``local/``: what only Beam's local runners need (TestStream poll loop, Ctrl-C, in-process tally, the
  local runner's defaults and Beam's private option parser);
* ``options.py`` (``CloudauditOptions``, checks before a run), ``config.py`` (run.yaml and the template
  parameters), ``template.py`` (the Dataflow Flex Template entry), ``cli.py`` (the commands).
"""
