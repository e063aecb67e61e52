"""Throughput and memory measurements (plain scripts that print figures; see benchmarks/README.md)."""
