"""Label a few images and adapt: the labelling session without Qt.

`session` holds the images, classes, labels (with their source) and predictions;
`operations` changes it in undoable steps; `suggestions` picks what to label next
and which predictions to accept; `adapter` adapts a trained model to the labels
and predicts the rest; `export` writes a CSV or copies images into class folders;
`session_file` saves and reopens a session as JSON. The GUI's label page wraps these.
"""
