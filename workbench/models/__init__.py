"""Backbones that turn images into feature vectors."""
