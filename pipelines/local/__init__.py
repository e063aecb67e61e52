"""What only Beam's local runners need, in one place.

* ``pipelines.local.streaming``: the polling stream source driven through a (patched, lazy) TestStream,
  Ctrl-C handling that drains, and the run's counts tallied in this process.
* ``pipelines.local.runner``: the local runner's defaults (FnApiRunner, one worker process per CPU for
  large inputs), the parser Beam uses for its options (to refuse unknown ones) and skipping Google's
  credential lookup in front of the storage emulator.

This is the only package that uses private Beam names. On other runners (Dataflow) the pipeline is
plain Beam: the stages in ``pipelines.stages``, the runner's own shuffle (``pipelines.stages.shuffle``)
and Beam ``Metrics``. Batch's spill files (``pipelines.spill``, used through ``pipelines.read`` and
``pipelines.store``) are used on the local runners only; the module stays where it is while issue 10
rewrites it (data-only format).
"""
