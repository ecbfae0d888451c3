"""A real audio output for the tests that play sound: a private PulseAudio server with a null sink.

What works here (Debian 12, pulseaudio 16.1, as root, in a container with no sound card, no
session bus and no display), measured rather than guessed:

- `pulseaudio` runs as a child process of pytest, in the foreground (`--daemonize=no`), with `-n`
  (no default.pa, so nothing probes for hardware) and exactly two modules: `module-null-sink`
  (the device Qt lists as "Null Output": it consumes audio at real-time speed, so the sink's clock
  advances as on a sound card) and `module-native-protocol-unix` on a socket in a new temporary
  folder with `auth-anonymous=1` (no cookie to share).
- HOME, XDG_CONFIG_HOME, XDG_RUNTIME_DIR and PULSE_RUNTIME_PATH point into that folder, so that the
  user's own PulseAudio settings and a desktop's running server are neither read nor touched.
  As a precaution for desktops (not needed here), DBUS_SESSION_BUS_ADDRESS and DISPLAY are
  removed for the child, so it cannot compete for the desktop server's D-Bus name; without a bus
  it only warns.
- As root it warns "This program is not intended to be run as root" and works: `--system` is not
  needed. `--exit-idle-time=-1` keeps it running while no client is connected,
  `--use-pid-file=no` lets it start beside another server, `--realtime=no --high-priority=no`
  asks for no scheduling privileges, `--disable-shm=yes` avoids /dev/shm (small in containers).
- The tests reach it through PULSE_SERVER=unix:<socket>, set in os.environ for this process (and
  the processes it starts); it is killed, and the variable restored, when the session ends.

When it must start: QtMultimedia asks PulseAudio for devices once, at the first QMediaDevices use
in a process, and keeps that answer; a server started later is never seen (measured with PySide6
6.11: audioOutputs() stays empty). Creating the QApplication or importing QtMultimedia earlier does
no harm (also measured). Every window creates a Playback, which asks. So the server must
run before the first test that creates a window, in whatever file, and a session fixture cannot
promise that: it is set up when the first test requesting it runs, after earlier files' windows.
This module is therefore a pytest plugin: a test module that plays sound names it in
`pytest_plugins`, pytest registers it while collecting (before any test runs), and its
`pytest_collection_finish` hook starts the server when a selected test uses `audio_device`. The
session fixture `pulse_server` hands that server to tests; `audio_device` is the default output.

Without `pulseaudio` on PATH those tests are skipped with the reason, or fail when
COMPOSER_REQUIRE_TOOLS=1 (CI, where a missing tool must not hide a check).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

_server: PulseServer | None = None
_reason = "no selected test needed an audio output"
_saved_pulse_server: str | None = None


class PulseServer:
    """One private PulseAudio server with a null sink, listening on `self.socket`."""

    def __init__(self) -> None:
        # A short path: a Unix socket's path may not exceed 107 bytes.
        self.folder = Path(tempfile.mkdtemp(prefix="composer-pulse-"))
        self.socket = self.folder / "native"
        self.log = self.folder / "pulseaudio.log"
        self.process: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        """The value for PULSE_SERVER."""
        return f"unix:{self.socket}"

    def start(self, timeout: float = 15.0) -> None:
        """Start it and wait until it accepts connections; RuntimeError with its log if not."""
        runtime = self.folder / "runtime"
        (runtime / "pulse").mkdir(parents=True, mode=0o700)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PULSE_", "DBUS_"))}
        env.pop("DISPLAY", None)
        env.update(
            HOME=str(self.folder),
            XDG_CONFIG_HOME=str(self.folder / "config"),
            XDG_RUNTIME_DIR=str(runtime),
            PULSE_RUNTIME_PATH=str(runtime / "pulse"),
        )
        command = [
            "pulseaudio",
            "--daemonize=no",
            "--exit-idle-time=-1",
            "--use-pid-file=no",
            "--realtime=no",
            "--high-priority=no",
            "--disable-shm=yes",
            "--log-target=stderr",
            "-n",
            "--load=module-null-sink",
            f"--load=module-native-protocol-unix socket={self.socket} auth-anonymous=1",
        ]
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                command, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"pulseaudio exited ({self.process.returncode}): {self._tail()}")
            if self._accepts():
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"pulseaudio did not listen within {timeout:.0f} s: {self._tail()}")

    def _accepts(self) -> bool:
        if not self.socket.exists():
            return False
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            try:
                probe.connect(str(self.socket))
            except OSError:
                return False
        return True

    def _tail(self) -> str:
        lines = self.log.read_text(errors="replace").splitlines() if self.log.exists() else []
        return " | ".join(line for line in lines[-5:] if line.strip()) or "no output"

    def stop(self) -> None:
        """Kill it (it is our own child) and remove its folder."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def _unavailable(reason: str):
    """Skip with `reason`, or fail where COMPOSER_REQUIRE_TOOLS=1 demands every check run."""
    if os.environ.get("COMPOSER_REQUIRE_TOOLS") == "1":
        pytest.fail(f"{reason}, and COMPOSER_REQUIRE_TOOLS=1 requires it")
    pytest.skip(reason)


def pytest_collection_finish(session) -> None:
    """Start the server before the first test runs, when any selected test plays sound."""
    global _server, _reason, _saved_pulse_server
    wanted = any("audio_device" in getattr(i, "fixturenames", ()) for i in session.items)
    if _server is not None or not wanted:
        return
    if shutil.which("pulseaudio") is None:
        _reason = "pulseaudio is not installed (apt-get install pulseaudio): no audio output"
        return
    server = PulseServer()
    try:
        server.start()
    except (OSError, RuntimeError) as exc:
        server.stop()
        _reason = f"the test PulseAudio server did not start: {exc}"
        return
    _server = server
    _saved_pulse_server = os.environ.get("PULSE_SERVER")
    os.environ["PULSE_SERVER"] = server.address


def pytest_sessionfinish(session, exitstatus) -> None:
    global _server
    if _server is None:
        return
    _server.stop()
    _server = None
    if _saved_pulse_server is None:
        os.environ.pop("PULSE_SERVER", None)
    else:
        os.environ["PULSE_SERVER"] = _saved_pulse_server


@pytest.fixture(scope="session")
def pulse_server() -> PulseServer:
    """The private PulseAudio server started for this session (skips or fails without one)."""
    if _server is None:
        _unavailable(_reason)
    return _server


@pytest.fixture
def audio_device(pulse_server, qapp):
    """The default audio output Qt sees: the server's null sink."""
    from composer.app.playback.player import audio_output

    device, reason = audio_output()
    if device is None:
        pytest.fail(
            f"{reason}, although a PulseAudio server listens at {pulse_server.address}: "
            "QtMultimedia was probably used before it started (it keeps the device list it "
            "found first); was QMediaDevices used at import or collection time?"
        )
    return device


def one_note_for_hours(path):
    """A 37-byte MIDI file: one note held for 0x0FFFFFFF ticks at 480 a beat and 120 BPM, 77.7
    hours (the largest time one MIDI event can wait)."""
    track = bytes([0, 0x90, 60, 64, 0xFF, 0xFF, 0xFF, 0x7F, 0x80, 60, 64, 0, 0xFF, 0x2F, 0])
    header = b"MThd" + (6).to_bytes(4, "big") + bytes([0, 0, 0, 1]) + (480).to_bytes(2, "big")
    path.write_bytes(header + b"MTrk" + len(track).to_bytes(4, "big") + track)
    return path
