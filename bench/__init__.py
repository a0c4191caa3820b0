"""Benchmarks of CivicPoints (`make bench`); each reports a ratio measured in the same run."""
