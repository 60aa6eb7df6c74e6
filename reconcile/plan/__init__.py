"""Plans: pure values and functions, no I/O. The only importer of deepdiff."""
