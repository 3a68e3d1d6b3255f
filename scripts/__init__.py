"""The csmap command line and the benchmarks."""
