"""The share of training episodes drawn from one group unless told otherwise (`train --group-episodes`,
the Training page's "From one group").

Importing this costs nothing: the CLI reads it before deciding whether a command needs torch.

A person's own folder is usually one kind of image (one alphabet, one species of leaf), so the
classes a model must tell apart there look alike. Episodes whose classes all come from one group
(the folder above the class folders) train for exactly that; the other episodes keep the variety of
the whole data. Data without groups, or with no group as wide as the training episodes, trains as
before. Measured in docs/benchmarks.md, "Episodes from one group".
"""

DEFAULT_GROUP_EPISODES = 0.5
