"""Projects: the datasets, runs folder and labelling sessions of one experiment, saved together."""
