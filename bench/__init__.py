"""Benchmarks (``make bench``): they print figures and ratios, never pass or fail.

Machines here are noisy, so every figure comes with a ratio against a baseline measured in the
same run on the same machine.
"""
