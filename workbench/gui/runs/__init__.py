"""The Runs page: every run folder under the runs root, compared and reused."""
