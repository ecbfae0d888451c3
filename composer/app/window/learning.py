"""The window's library, training and evaluation wiring: a folder read into the library goes to
the Train panel, a finished run appears in Generate's model list, and Music → Evaluate measures
the model chosen in Generate in the background, then shows the report.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Slot

from composer.app.workers import Worker


class Learning(QObject):
    """Given the window's `library`, `training` and `generation` panels, `docks` and `threads`;
    says things through `window.tell` and `window.show_status`."""

    evaluation = None  # the last EvaluationDialog shown

    def __init__(self, window, *, library, training, generation, docks, threads) -> None:
        super().__init__(window)
        self.window = window
        self.library, self.training, self.generation = library, training, generation
        self.docks, self.threads = docks, threads
        self.library.collection_ready.connect(self._on_collection)
        self.training.run_finished.connect(self._on_run_finished)

    def open_folder(self) -> None:
        self.docks["library"].raise_()
        self.library.choose_folder()

    @Slot(object, object)
    def _on_collection(self, collection, report) -> None:
        self.training.set_collection(collection)
        self.window.set_item_name(Path(report.folder).name)

    def start_training(self) -> None:
        self.docks["training"].raise_()
        self.training.start()

    @Slot(str)
    def _on_run_finished(self, run_dir: str) -> None:
        self.generation.refresh_models(select=run_dir)

    # --- evaluation -------------------------------------------------------------------------------
    def evaluate_model(self) -> None:
        """Evaluate the model chosen in Generate (a run: on its validation files; otherwise on the
        library's folder) in the background, then show the report."""
        from composer.app.panels.evaluation_dialog import evaluate_job
        from composer.app.panels.generation_panel import BUNDLED, OPEN_FILE

        choice = self.generation.model.currentData()
        if choice in (None, OPEN_FILE):
            self.window.tell("Choose a model in Generate first: train one, or open a model file.")
            return
        model = None if choice == BUNDLED else Path(choice)
        is_run = model is not None and (model / "run.json").exists()
        folder = None if is_run else self.library.folder
        if not is_run and folder is None:
            self.window.tell("Open a folder of MIDI files first: the model is evaluated on it.")
            return
        worker = Worker(lambda w: evaluate_job(w, model, folder), urgent=lambda item: True)
        worker.progress.connect(self.window.show_status)
        worker.succeeded.connect(self._show_evaluation)
        worker.failed.connect(self._on_evaluation_failed)
        self.window.show_status("Evaluating the model…")
        self.threads.start(worker)

    @Slot(object)
    def _show_evaluation(self, outcome) -> None:
        from composer.app.panels.evaluation_dialog import EvaluationDialog

        result, text = outcome
        self.evaluation = EvaluationDialog(result, text, self.window)
        self.evaluation.show()
        self.window.show_status(
            "Evaluation done." + (" " + result["warnings"][0] if result["warnings"] else "")
        )

    @Slot(str, bool)
    def _on_evaluation_failed(self, message: str, unexpected: bool) -> None:
        self.window.tell(message)
