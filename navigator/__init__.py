"""Navigator's application wiring: settings, the command line, evaluation and benchmarks."""
