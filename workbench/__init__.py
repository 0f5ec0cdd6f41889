"""Few-Shot Workbench: the Qt-free core (data, models, algorithms, training, runs).

Everything in this package except `workbench.gui` runs without a display.
"""

__version__ = "0.1.0"
