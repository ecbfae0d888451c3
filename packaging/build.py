"""Build Composer's one-folder desktop app with PyInstaller, report its size, and smoke-test it.

    .venv/bin/python packaging/build.py             build into packaging/dist/composer, then check
    .venv/bin/python packaging/build.py --no-build  check the bundle already built

The checks run a copy of the bundle from a temporary folder (so nothing can come from this
checkout) with its own empty home folders: `--version`; `generate` with the bundled model, reading
the MIDI files back with mido; `ingest` and a two-step `train` (worker processes in a frozen app);
`generate` from that run; `render` to WAV; and the window itself under Xvfb on Linux, with
COMPOSER_SMOKE_TEST=1, where the app generates through its own panel and prints `smoke ok: ...`.
Exits 1 when the build or any check fails.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import mido

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SPEC = HERE / "composer.spec"
DIST = HERE / "dist"
WORK = HERE / "build"
APP = DIST / "composer"
EXE_NAME = "composer.exe" if sys.platform == "win32" else "composer"
MIB = 2**20  # sizes in MiB, as `du -sh` prints them
GUI_TIMEOUT_S = 300  # the app's own limit is 180 s of generation after the window shows


def build(clean: bool) -> float:
    """Run PyInstaller on the spec; returns the seconds it took."""
    command = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN"]
    command += ["--distpath", str(DIST), "--workpath", str(WORK)]
    command += ["--clean"] if clean else []
    started = time.perf_counter()
    subprocess.run([*command, str(SPEC)], cwd=ROOT, check=True)
    return time.perf_counter() - started


def size_report(app: Path, top: int = 10) -> None:
    """Print the bundle's total size and its largest files and folders."""
    files = [p for p in app.rglob("*") if p.is_file() and not p.is_symlink()]
    sizes = {p: p.stat().st_size for p in files}
    print(f"\n{app}: {sum(sizes.values()) / MIB:,.0f} MiB in {len(files):,} files")
    print("Largest files:")
    for path, size in sorted(sizes.items(), key=lambda item: -item[1])[:top]:
        print(f"  {size / MIB:8.1f} MiB  {path.relative_to(app)}")
    folders: dict[Path, int] = {}
    for path, size in sizes.items():
        for parent in path.relative_to(app).parents:
            if 1 < len(parent.parts) <= 4:  # _internal/x, _internal/x/y, ...: not the root
                folders[parent] = folders.get(parent, 0) + size
    print("Largest folders (nested ones counted in their parents too):")
    for path, size in sorted(folders.items(), key=lambda item: -item[1])[:top]:
        print(f"  {size / MIB:8.1f} MiB  {path}")


def missing_qt_libraries(app: Path) -> list[str]:
    """Linux: Qt plugins in the bundle whose Qt libraries are not in it (excluded too eagerly)."""
    internal = app / "_internal"
    env = {**os.environ, "LD_LIBRARY_PATH": str(internal)}
    problems = []
    for plugin in sorted((internal / "PySide6" / "Qt" / "plugins").rglob("*.so")):
        result = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True, env=env)
        for line in result.stdout.splitlines():
            if "not found" in line and line.strip().startswith("libQt6"):
                problems.append(f"{plugin.relative_to(internal)} needs {line.split()[0]}")
    return problems


def notes_in(path: Path) -> int:
    """Note-on events with a velocity in a MIDI file, read with mido (independent of the app)."""
    midi = mido.MidiFile(path)
    return sum(1 for track in midi.tracks for m in track if m.type == "note_on" and m.velocity)


class Smoke:
    """Runs the bundle's executable in `folder` and records what failed."""

    def __init__(self, exe: Path, folder: Path):
        self.exe = exe
        self.folder = folder
        self.failures: list[str] = []
        home = folder / "home"
        self.env = {
            **os.environ,
            "HOME": str(home),  # settings, caches and logs land in the temporary folder
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "XDG_DATA_HOME": str(home / ".local" / "share"),
            "APPDATA": str(home / "AppData" / "Roaming"),
            "LOCALAPPDATA": str(home / "AppData" / "Local"),
            "PYTHONPATH": "",
        }

    def run(self, name: str, args: list[str], wrapper=(), env=None, timeout=600) -> str | None:
        """Run the app with `args`; the output when it exits 0, else None (and a failure)."""
        started = time.perf_counter()
        process = subprocess.Popen(
            [*wrapper, str(self.exe), *args],
            cwd=self.folder,
            env={**self.env, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # a process group: a timeout ends xvfb-run, Xvfb and the app
        )
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            output = self.stop(process)
            return self.fail(name, f"no exit after {timeout} s", output)
        seconds = time.perf_counter() - started
        if process.returncode != 0:
            return self.fail(name, f"exit status {process.returncode}", output)
        print(f"ok    {name} ({seconds:.1f} s)")
        return output

    @staticmethod
    def stop(process: subprocess.Popen) -> str:
        """End the process group: SIGTERM first, so that xvfb-run removes its temporary files."""
        if sys.platform == "win32":
            process.kill()
            return process.communicate()[0]
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
            try:
                return process.communicate(timeout=10)[0]
            except subprocess.TimeoutExpired:
                continue
        return ""

    def fail(self, name: str, reason: str, output: str = "") -> None:
        self.failures.append(f"{name}: {reason}")
        print(f"FAIL  {name}: {reason}")
        for line in output.strip().splitlines()[-25:]:
            print(f"      | {line}")
        return None

    def check(self, name: str, condition: bool, detail: str) -> None:
        if condition:
            print(f"ok    {name}: {detail}")
        else:
            self.fail(name, detail)


def smoke_test(app: Path, gui: bool) -> list[str]:
    """Copy the bundle to a temporary folder and run the checks there; returns the failures."""
    from composer import __version__

    with tempfile.TemporaryDirectory(prefix="composer-smoke-") as tmp:
        folder = Path(tmp)
        copy = folder / "composer"
        shutil.copytree(app, copy, symlinks=True)
        bundled = copy / "_internal" / "composer" / "assets" / "model" / "model.json"
        smoke = Smoke(copy / EXE_NAME, folder)
        smoke.check("assets", bundled.is_file(), f"bundled model at {bundled.relative_to(folder)}")

        out = smoke.run("--version", ["--version"])
        if out is not None:
            want = f"composer {__version__}"
            smoke.check("--version", out.strip() == want, f"printed {out.strip()!r}")

        corpus = folder / "corpus"
        corpus.mkdir()
        args = ["generate", "--out", str(corpus / "piece.mid"), "--seconds", "12", "--seed", "1"]
        out = smoke.run("generate (bundled model)", [*args, "--variations", "4"])
        if out is not None:
            counts = [notes_in(p) for p in sorted(corpus.glob("piece-*.mid"))]
            smoke.check("MIDI files", len(counts) == 4 and min(counts) > 0, f"notes {counts}")

        cache = {"COMPOSER_CACHE_DIR": str(folder / "cache")}
        args = ["ingest", str(corpus), "--jobs", "2", "--json"]
        out = smoke.run("ingest (2 worker processes)", args, env=cache)
        if out is not None:
            report, _ = json.JSONDecoder().raw_decode(out, out.index("{"))  # after any warnings
            usable = f"{report['ok']} of {report['files']} files usable"
            smoke.check("ingest report", report["ok"] == report["files"] == 4, usable)
        tiny = ["--layers", "1", "--hidden-size", "32", "--embedding-size", "16", "--window", "32"]
        tiny += ["--batch-size", "2", "--eval-every", "2", "--steps", "2", "--jobs", "2"]
        run_dir = folder / "run"
        out = smoke.run(
            "train (2 steps)", ["train", str(corpus), "--out", str(run_dir), *tiny], env=cache
        )
        if out is not None:
            out = smoke.run("generate (trained run)", ["generate", str(run_dir), "--out", "r.mid"])
            if out is not None:
                smoke.check("trained run's MIDI", (folder / "r.mid").is_file(), "written")

        wav = folder / "piece.wav"
        out = smoke.run("render", ["render", str(corpus / "piece-1.mid"), "--out", str(wav)])
        if out is not None:
            with wave.open(str(wav)) as audio:
                seconds = audio.getnframes() / audio.getframerate()
            engine = "FluidSynth" if "FluidSynth" in out else "built-in synthesiser"
            smoke.check("WAV file", seconds > 1, f"{seconds:.1f} s, {engine}")

        if sys.platform.startswith("linux"):
            desktop_entry_test(smoke, folder / "share", copy / EXE_NAME)
        if gui:
            gui_test(smoke)
        return smoke.failures


def desktop_entry_test(smoke: Smoke, prefix: Path, exe: Path) -> None:
    """`composer install-desktop` from the bundle: the menu entry starts the bundle's executable."""
    from composer.resources import APP_ID

    out = smoke.run("install-desktop", ["install-desktop", "--prefix", str(prefix)])
    if out is None:
        return
    entry = prefix / "applications" / f"{APP_ID}.desktop"
    lines = entry.read_text().splitlines() if entry.is_file() else []
    exec_line = next((line for line in lines if line.startswith("Exec=")), "no Exec line")
    smoke.check("desktop entry", exec_line.startswith(f"Exec={exe} "), exec_line)


def gui_test(smoke: Smoke) -> None:
    """The window, under Xvfb on Linux: the app generates through its panel, then quits."""
    wrapper: list[str] = []
    env = {"COMPOSER_SMOKE_TEST": "1"}
    if sys.platform.startswith("linux"):
        if shutil.which("xvfb-run") is None:
            smoke.fail("window", "xvfb-run is not installed (apt install xvfb), or pass --no-gui")
            return
        wrapper = ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24"]
        env["QT_QPA_PLATFORM"] = "xcb"  # the real X11 plugin, not offscreen
    out = smoke.run("window (COMPOSER_SMOKE_TEST)", [], wrapper, env, timeout=GUI_TIMEOUT_S)
    if out is None:
        return
    lines = [line for line in out.splitlines() if line.startswith(("window shown", "smoke "))]
    for line in lines:
        print(f"      | {line}")
    shown = any(line.startswith("window shown") for line in lines)
    passed = any(line.startswith("smoke ok:") for line in lines)
    smoke.check("window", shown and passed, "shown, and generated in the window")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-build", action="store_true", help="check the existing bundle")
    parser.add_argument("--clean", action="store_true", help="empty PyInstaller's cache first")
    parser.add_argument("--no-gui", action="store_true", help="skip the window check")
    args = parser.parse_args()
    if not args.no_build:
        try:
            seconds = build(args.clean)
        except subprocess.CalledProcessError as exc:
            print(f"PyInstaller failed (exit status {exc.returncode}); see its output above.")
            return 1
        print(f"Built {APP} in {seconds / 60:.1f} min")
    if not (APP / EXE_NAME).is_file():
        print(f"No bundle at {APP}; run without --no-build first.")
        return 1
    size_report(APP)
    failures = missing_qt_libraries(APP) if sys.platform.startswith("linux") else []
    for failure in failures:
        print(f"FAIL  {failure}")
    print("\nSmoke test:")
    failures += smoke_test(APP, gui=not args.no_gui)
    if failures:
        print(f"\n{len(failures)} check(s) failed:\n  " + "\n  ".join(failures))
        return 1
    print("\nAll checks passed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
