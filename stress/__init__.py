"""`make stress`: stateful stress across the embedded backends with fresh seeds until a time budget, in
parallel worker processes that a segfault cannot take down with the run; writes a report per run."""
