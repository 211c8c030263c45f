"""Benchmarks of netverify on generated clusters (see benchmarks/README.md)."""
