"""Open the main window in a given state, for screenshots with ../shared/tools/gui-shot.

    python resources/window_state.py prepare DIR       # demo data + three short real runs + one evaluation
    python resources/window_state.py welcome|dark|dataset|training|runs|inspect|embedding|tasks|reliability DIR [dark] [WxH]

The Label page's state is resources/label_demo.py (it takes the same [dark] [WxH]).

`prepare` trains for real (a few minutes on 2 CPU cores); the states only open the window.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def prepare(folder: Path) -> None:
    from workbench.data.demo import make_demo_dataset
    from workbench.data.splits import SplitSpec
    from workbench.inspect.evaluation import inspect_run
    from workbench.runs.config import RunConfig
    from workbench.training.runner import run_to_end, train_run

    data = make_demo_dataset(folder / "demo-glyphs", classes=100, images_per_class=20)
    runs = folder / "runs"
    settings = [("protonet-euclidean", "protonet", {"lr": 1e-3}, 400), ("protonet-cosine", "protonet",
                {"lr": 1e-3, "distance": "cosine"}, 400), ("maml", "maml", {}, 60)]
    for name, algorithm, hparams, steps in settings:
        if (runs / name).exists():
            continue
        config = RunConfig(data=[str(data)], algorithm=algorithm, hparams=hparams, ways=5, shots=1, queries=5,
                           steps=steps, val_every=max(10, steps // 10), val_episodes=30, device="cpu",
                           split=SplitSpec("group"))
        print(name, run_to_end(train_run(config, runs / name)))
    inspect_run(str(runs / "protonet-euclidean"), episodes=100, device="cpu")


def first_with_a_mistake(inspection) -> int:
    return next((i for i, e in enumerate(inspection.episodes) if e.accuracy < 1), 0)


def show(state: str, folder: Path, theme: str = "light", size: tuple[int, int] = (1420, 860)) -> int:
    os.environ.setdefault("FEWSHOT_WORKBENCH_SETTINGS", str(folder / f"settings-{state}.ini"))
    from PySide6.QtCore import QTimer

    from workbench.gui.app import make_application
    from workbench.gui.main_window import MainWindow

    app = make_application([])
    runs = folder / "runs"
    window = MainWindow(runs_root=runs if state not in ("welcome", "dark") else folder / "no-runs-yet")
    window.set_theme("dark" if state == "dark" else theme)
    window.resize(*size)
    window.show()
    if state == "dataset":
        window.data_panel.set_paths([str(folder / "demo-glyphs")])
        window.tabs.setCurrentWidget(window.dataset_view)
    elif state == "training":
        window.data_panel.set_paths([str(folder / "demo-glyphs")])
        window.tabs.setCurrentWidget(window.training_page)
    elif state == "runs":
        window.data_panel.set_paths([str(folder / "demo-glyphs")])
        window.tabs.setCurrentWidget(window.runs_page)
        window.runs_page.select_paths([str(p) for p in sorted(runs.iterdir())])
    elif state in ("tasks", "reliability"):
        window.data_panel.set_paths([str(folder / "demo-glyphs")])
        window.inspect_run(str(runs / "protonet-euclidean"))
        page = window.inspect_page
        QTimer.singleShot(300, lambda: page.views.setCurrentWidget(page.tasks if state == "tasks" else page.reliability))
    elif state in ("inspect", "embedding"):
        window.data_panel.set_paths([str(folder / "demo-glyphs")])
        window.inspect_run(str(runs / "protonet-euclidean"))
        if state == "embedding":
            page = window.inspect_page
            QTimer.singleShot(200, lambda: page.views.setCurrentWidget(page.embedding))
            def click_a_query() -> None:
                view = page.embedding
                if view.embedding is None:
                    QTimer.singleShot(300, click_a_query)
                    return
                wrong = [i for i, p in enumerate(view.embedding.points) if p.kind == "query" and p.predicted != p.label]
                view.select_point((wrong or [i for i, p in enumerate(view.embedding.points) if p.kind == "query"])[0])

            QTimer.singleShot(300, lambda: page.embedding.show_episode(first_with_a_mistake(page.inspection)))
            QTimer.singleShot(600, click_a_query)
    return app.exec()


if __name__ == "__main__":
    state, folder = sys.argv[1], Path(sys.argv[2])
    extra = sys.argv[3:]
    theme = "dark" if "dark" in extra else "light"
    sizes = [tuple(int(n) for n in a.split("x")) for a in extra if "x" in a]
    if state == "prepare":
        prepare(folder)
    else:
        sys.exit(show(state, folder, theme, sizes[0] if sizes else (1420, 860)))
