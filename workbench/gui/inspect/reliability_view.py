"""The reliability diagram: for predictions made with about 70% confidence, were about 70% right?

Bars are the accuracy of the test predictions in each confidence bin (15 equal bins, as the
expected calibration error uses); the diagonal is where a calibrated model's bars would end. Bars
below the diagonal mean over-confidence: auto-labelling at that confidence would accept wrong labels.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from workbench.adaptation.calibration import CalibrationReport

BAR_COLOUR = "#0072B2"
OVER_CONFIDENT_COLOUR = "#D55E00"  # bins more than OVER_CONFIDENT points below the diagonal
OVER_CONFIDENT = 0.05
DIAGONAL_COLOUR = "#888888"


class ReliabilityView(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.status = QLabel("Evaluate a run to see how far its confidences can be trusted.")
        self.status.setObjectName("hint")
        self.status.setWordWrap(True)
        self.plot_widget = pg.PlotWidget()
        self.plot = self.plot_widget.getPlotItem()
        self.plot.setLabel("bottom", "confidence of the prediction (%)")
        self.plot.setLabel("left", "share right (%)")
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self.plot.setXRange(0, 100, padding=0.02)
        self.plot.setYRange(0, 100, padding=0.02)
        self.plot.setMouseEnabled(x=False, y=False)
        self.bars: pg.BarGraphItem | None = None
        self.diagonal = self.plot.plot([0, 100], [0, 100], pen=pg.mkPen(DIAGONAL_COLOUR, width=2,
                                                                        style=pg.QtCore.Qt.PenStyle.DashLine))
        self.diagonal.setZValue(10)  # drawn over the bars, so a bar that falls short of it shows by how much
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.plot_widget, 1)

    def set_report(self, report: CalibrationReport | None) -> None:
        if self.bars is not None:
            self.plot.removeItem(self.bars)
            self.bars = None
        if report is None or report.count == 0:
            self.status.setText("No predictions to judge the confidences by.")
            return
        filled = [b for b in report.bins if b[3] > 0]
        width = 100.0 / max(1, len(report.bins))
        over_confident = [b[2] < b[1] - OVER_CONFIDENT for b in filled]
        self.bars = pg.BarGraphItem(x0=[100 * b[0] + width * 0.05 for b in filled], width=width * 0.9,
                                    height=[100 * b[2] for b in filled], pen=None,
                                    brushes=[pg.mkBrush(OVER_CONFIDENT_COLOUR if o else BAR_COLOUR) for o in over_confident])
        self.plot.addItem(self.bars)
        over = sum(b[3] for b, o in zip(filled, over_confident) if o)
        self.status.setText(
            f"Expected calibration error <b>{report.ece:.1%}</b> over {report.count:,} test predictions. Bars on the "
            "dashed diagonal: a confidence means what it says; orange bars fall more than 5 points below it "
            "(over-confident)" + (f": {over:,} predictions sit in those bins." if over else "; there are none."))

    def bar_heights(self) -> list[float]:
        return [] if self.bars is None else list(self.bars.opts["height"])
