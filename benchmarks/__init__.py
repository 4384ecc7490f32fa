"""Benchmarks: load, memory, parsing (and, when their modules exist, extraction, search and export).

Run `python -m benchmarks --help`. Every figure is reported as a ratio against a floor measured in the
same run, because the machines these run on are shared and their absolute speed drifts.
"""
