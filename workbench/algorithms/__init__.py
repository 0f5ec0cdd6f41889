"""Few-shot algorithms behind one interface (see base.py), listed by registry.py."""
