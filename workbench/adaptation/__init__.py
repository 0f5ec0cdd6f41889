"""Adapting a trained run to labelled images: feature spaces, the `auto` choice between them, and
calibrated confidence. Used alike by `evaluate`, `adapt`, the Label page and Inspect."""
