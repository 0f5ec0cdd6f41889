"""Screens of the Training page's Architecture tab during a real metanas search.

    QT_QPA_PLATFORM=offscreen python resources/architecture_demo.py OUT_DIR [STEP] [DATA]

Starts the default search on DATA (the first minimal Omniglot set beside the repository by default)
from the window, waits until the search has validated at STEP or later (200 by default: about 5
minutes on 2 CPU cores), then saves the window at 1024×700 and 1440×900, light and dark, as
OUT_DIR/architecture-WxH-THEME.png, and stops the run. The runs go to OUT_DIR/runs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
OMNIGLOT = Path(__file__).resolve().parents[2] / "shared" / "data" / "omniglot" / "images_background_small1.zip"


def main() -> int:
    out = Path(sys.argv[1])
    step = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    data = sys.argv[3] if len(sys.argv) > 3 else str(OMNIGLOT)
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("FEWSHOT_WORKBENCH_SETTINGS", str(out / "settings.ini"))
    from PySide6.QtCore import QTimer

    from workbench.gui.app import make_application
    from workbench.gui.main_window import MainWindow

    app = make_application(sys.argv[:1])
    window = MainWindow(runs_root=out / "runs", reopen_datasets=False)
    window.resize(1440, 900)
    window.show()
    window.data_panel.set_paths([data])
    window.algorithm_panel.set_algorithm("metanas")
    for name, value in {"steps": 1000, "val_every": 50, "val_episodes": 20}.items():
        window.protocol_panel.set_value(name, value)
    started = []

    def tick() -> None:
        if not started and not window.scan_running:
            window.start_training()
            started.append(True)
        view = window.training_page.architecture
        if view.step is None or view.step < step:
            QTimer.singleShot(1000, tick)
            return
        for size in ((1024, 700), (1440, 900)):
            for theme in ("light", "dark"):
                window.set_theme(theme)
                window.resize(*size)
                for _ in range(20):
                    app.processEvents()
                window.grab().save(str(out / f"architecture-{size[0]}x{size[1]}-{theme}.png"))
        window.set_theme("light")
        window.training_page.stop()
        QTimer.singleShot(8000, app.quit)

    QTimer.singleShot(1000, tick)
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
