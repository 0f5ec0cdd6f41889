"""The setting that names a found architecture, declared once and without torch (plugins declare it too).

`backbone=searched` builds the network a MetaNAS search found (models/searched.py); this setting
names the architecture.json that search saved in its run folder. Every algorithm with a
`backbone` setting declares it beside that one.
"""

from __future__ import annotations

from workbench.algorithms.hyperparams import HyperParam

BACKBONE_ARCHITECTURE = HyperParam(
    "backbone_architecture", "path", "",
    "For backbone=searched: the architecture.json a MetaNAS run saved in its run folder (the cell it found). "
    "Empty for every other backbone.",
)
