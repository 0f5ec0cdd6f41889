"""The image size a new run trains at unless told otherwise (`train --image-size`, the Training page).

Importing this costs nothing: the CLI reads it before deciding whether a command needs torch.

32 pixels, not the 28 of most Omniglot papers: the default ProtoNet training at 32 scored 88.6% on
20-way 1-shot within one unseen alphabet against 84.2% at 28, for about 1.3 times the time per step
(docs/benchmarks.md, "The defaults at 32 pixels").
"""

DEFAULT_IMAGE_SIZE = 32
