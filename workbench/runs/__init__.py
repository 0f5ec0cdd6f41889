"""Run folders: plain files a person can read, written atomically."""
