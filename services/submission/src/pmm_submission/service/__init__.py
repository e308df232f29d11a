"""Use cases of the submission service: load, decide, write, emit."""
