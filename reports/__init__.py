"""Run reports: per-process counters that the harness feeds, the summary of a run (JSON, Markdown, HTML),
the pytest plugin that records `make test` runs, and `python -m reports` to print the latest summary."""
