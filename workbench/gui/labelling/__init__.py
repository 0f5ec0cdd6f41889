"""The "Label" page: label a few images of a folder, adapt a trained model, auto-label the rest.

`LabelPage` is the page; the rest are its parts (grid model and delegate, class
list, layout, the model's background jobs). The state and every rule live in workbench.labelling.
"""

from workbench.gui.labelling.page import LabelPage

__all__ = ["LabelPage"]
