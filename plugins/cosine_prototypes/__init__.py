"""Example plugin: prototypes compared by cosine similarity with a learned scale.

This folder is the whole plugin. Dropped into plugins/ (or a plugin folder of your
own), it appears in the GUI's algorithm list, in `main.py algorithms` and in
`main.py train --algorithm example_cosine`, with no change anywhere else.

It comes in two files so that listing algorithms stays fast: this one says what
the algorithm is called and which settings it has, and imports neither torch nor
the method; `method.py` is the method itself, imported the first time the
algorithm is built. (A plugin may also be one file whose class carries `@register`:
simpler, but every `main.py algorithms` then waits for that file's imports.)

The method: like Prototypical Networks (Snell et al. 2017) a class is the mean
embedding of its support images, but a query is scored by the cosine of its
angle to each prototype, times a scale the network learns. Cosine classifiers
with a learned scale are the head of Gidaris and Komodakis (CVPR 2018) and of
"Baseline++" (Chen et al., ICLR 2019); the learned scale matters because
cosines lie in [-1, 1] and a softmax over them alone is too flat to train.
"""

from workbench.algorithms.hyperparams import HyperParam
from workbench.algorithms.registry import declare
from workbench.catalogue import backbone_choices

# `name` is what the CLI and config.json use; `title` and `summary` are what the GUI shows.
# Each HyperParam becomes a field in the GUI's form and a `--set NAME=VALUE` on the CLI.
EXAMPLE = declare(
    name="example_cosine",
    title="Cosine prototypes (example plugin)",
    summary="Prototypes compared by cosine similarity with a learned scale; the example plugin in plugins/.",
    hyperparams=(
        HyperParam("lr", "float", 1e-3, "Adam learning rate.", 1e-6, 1.0, log_scale=True),
        HyperParam("initial_scale", "float", 10.0, "Starting value of the learned cosine scale.", 0.1, 100.0, log_scale=True),
        HyperParam("backbone", "choice", "conv4", "Embedding network.", choices=backbone_choices()),
    ),
    # Imported when the algorithm is first built (this package's method.py, whatever name the package is loaded under).
    load=f"{__name__}.method:CosinePrototypes",
)
