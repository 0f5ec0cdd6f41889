"""Inspecting results without Qt: evaluation with per-episode predictions, confusion,
mistakes, and 2-D projections of embeddings and tasks. The GUI's Inspect page draws these."""
