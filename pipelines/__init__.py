"""Beam composition: options, the batch pipeline, its sinks and dead letters, and the command line."""
