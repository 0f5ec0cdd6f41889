"""A plugin file (loaded through WORKBENCH_PLUGIN_PATH by the CLI tests) registering the faulty algorithms."""

from tests.robustness.faulty_algorithms import FAULTY
from workbench.algorithms.registry import register

for algorithm in FAULTY:
    register(algorithm)
