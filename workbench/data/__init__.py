"""Datasets as folders (or zips) of class folders, decoded once into memory."""
