"""xsell test suite; `tests.fakes` holds the working in-memory doubles of the ports."""
