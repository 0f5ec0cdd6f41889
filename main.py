"""Few-Shot Workbench. `python main.py` opens the desktop app;
`python main.py COMMAND ...` (train, evaluate, adapt, export, table, algorithms, plugins) runs headless without Qt."""

import sys

from workbench.cli import main

if __name__ == "__main__":
    sys.exit(main())
