"""Resume a run… (issue 28): a browser of the runs made here (name, collection, steps, best
validation, when, what it started from); resuming keeps the run's own budget and says its
settings; a folder that is not a run is listed, greyed, with why."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt

from composer.app import paths
from composer.app.panels.run_browser import HEADERS
from tests.conftest import corpus
from tests.training_helpers import copy_chorales, tiny_panel_settings


@pytest.fixture
def chorales(tmp_path):
    return copy_chorales(corpus("bach_chorales"), tmp_path / "chorales", 8)


@pytest.mark.slow
def test_the_run_browser_lists_the_runs_and_resuming_keeps_a_runs_own_budget(
    window, qtbot, chorales
):
    panel = window.training
    window.library.open_folder(chorales)
    qtbot.waitUntil(lambda: panel.start_button.isEnabled(), timeout=60_000)
    tiny_panel_settings(panel, steps=4)
    panel.length.set_unit("minutes")
    panel.length.minutes.setValue(0.1)  # a run of six seconds
    window.learning.start_training()
    qtbot.waitUntil(lambda: not panel.is_running, timeout=120_000)
    timed = panel.run_dir
    tiny_panel_settings(panel, steps=4)
    panel.length.set_unit("steps")
    window.learning.start_training()
    qtbot.waitUntil(lambda: not panel.is_running, timeout=120_000)
    stepped = panel.run_dir
    (paths.runs_dir() / "not-a-run").mkdir()
    panel.length.minutes.setValue(5.0)  # the panel's default again, as after a restart

    qtbot.mouseClick(panel.open_button, Qt.MouseButton.LeftButton)
    browser = panel.browser
    table = browser.table
    assert [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())] == list(
        HEADERS
    )
    listed = {table.item(r, 0).text(): r for r in range(table.rowCount())}
    assert {timed.name, stepped.name, "not-a-run"} <= set(listed)
    row = listed[stepped.name]
    assert table.item(row, 1).text() == chorales.name
    assert table.item(row, 2).text() == "4 of 4" and table.item(row, 5).text() == "empty"
    assert table.item(listed["not-a-run"], 0).flags() == Qt.ItemFlag.NoItemFlags  # greyed
    assert "run.json" in table.item(listed["not-a-run"], 5).text()

    budget = json.loads((timed / "run.json").read_text())["training"]["minutes"]
    rect = table.visualItemRect(table.item(listed[timed.name], 0))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseClick(browser.resume_button, Qt.MouseButton.LeftButton)
    assert panel.length.in_minutes and panel.length.minutes.value() == 0.1  # its own, not 5
    said = panel.message.text()  # the run's own settings, in words, while it starts
    assert said.startswith(f"Resuming {timed.name}: {chorales.name}, from empty")
    assert "0.1 minutes of training" in said
    qtbot.waitUntil(lambda: not panel.is_running, timeout=120_000)
    assert json.loads((timed / "run.json").read_text())["training"]["minutes"] == budget
    done, total = panel.readouts["Step"].text().split(" / ")  # "108 / 1" was the wrong
    assert total == done != "1"  # a finished run's steps, of the steps it took


@pytest.mark.slow
def test_the_train_readouts_belong_to_the_run_shown(window, qtbot, chorales, tmp_path):
    panel = window.training
    window.library.open_folder(chorales)
    qtbot.waitUntil(lambda: panel.start_button.isEnabled(), timeout=60_000)
    tiny_panel_settings(panel, steps=4)
    panel.length.set_unit("steps")
    window.learning.start_training()
    qtbot.waitUntil(lambda: not panel.is_running, timeout=120_000)
    assert panel.readouts["Step"].text() == "4 / 4" and panel.readouts["ETA"].text() == "–"
    assert panel.chart.train  # the run's losses
    other = copy_chorales(corpus("bach_chorales"), tmp_path / "other", 4)
    window.library.open_folder(other)
    qtbot.waitUntil(lambda: "Ready to train on 4 files" in panel.message.text(), timeout=60_000)
    assert panel.readouts["Step"].text() == "–" and not panel.chart.train and panel.run_dir is None
