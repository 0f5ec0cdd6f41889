"""The Inspect page: an evaluation's accuracy, per-class results, confusion, mistakes, embeddings and tasks."""
