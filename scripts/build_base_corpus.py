"""Build the base model's corpus in build/base-corpus/: one folder per collection.

    pip install music21            # only this script needs it
    python scripts/build_base_corpus.py [--out build/base-corpus] [--jobs 2]

Collections from ../shared/corpora are linked, not copied (relative symbolic links to the files).
Repertories of the corpus that ships inside the `music21` package are converted to MIDI by music21
here, never by hand; a repertory is taken only when none of its files carries a notice that
restricts use (a copyright line without a licence, "non-commercial", ...), and the script checks
that on every run, so a new music21 release that adds such a notice drops the repertory instead of
shipping it. Converting is resumable: a finished file is written under a temporary name and
renamed, and existing files are kept.

HELD_OUT are converted too but kept out of the base: benchmarks/finetune.py fine-tunes on them,
a style the base model never saw.

The manifest (MANIFEST.json) lists every collection with its licence, file count and a
fingerprint (SHA-256 over the sorted relative paths and file hashes) that the base model's
model.json records.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import signal
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "corpora"


@dataclass(frozen=True)
class Source:
    name: str  # the folder under the corpus
    style: str  # a musician's word for it
    licence: str
    origin: str
    shared: str | None = None  # a folder of ../shared/corpora, linked
    music21: str | None = None  # a repertory of music21's corpus, converted
    pattern: str = "*"  # which files of the repertory
    limit: int | None = None  # at most this many source files (sorted), for held-out sets


BASE = [
    Source(
        "pop909",
        "pop",
        "MIT",
        "music-x-lab/POP909-Dataset: 909 Chinese pop songs arranged for piano",
        shared="pop909",
    ),
    Source(
        "nottingham",
        "folk",
        "GPL-3.0",
        "jukedeck/nottingham-dataset: Nottingham Music Database folk tunes",
        shared="nottingham",
    ),
    Source(
        "bach_chorales",
        "chorale",
        "BSD-3-Clause (music21 corpus)",
        "J.S. Bach four-part chorales from the music21 corpus",
        shared="bach_chorales",
    ),
    Source(
        "ryans_mammoth",
        "fiddle",
        "public domain music (1883); encodings in music21 (BSD-3-Clause), no restriction noted",
        "Ryan's Mammoth Collection of fiddle tunes (ABC) from the music21 corpus",
        music21="ryansMammoth",
        pattern="*.abc",
    ),
    Source(
        "oneills_1850",
        "fiddle",
        "public domain music (1903); encodings in music21 (BSD-3-Clause), no restriction noted",
        "O'Neill's Music of Ireland, 1,850 tunes (ABC) from the music21 corpus",
        music21="oneills1850",
        pattern="*.abc",
    ),
    Source(
        "classical_quartets",
        "classical",
        "public domain music; encodings in music21 (BSD-3-Clause), no restriction noted",
        "Beethoven, Haydn and Mozart string quartets and pieces from the music21 corpus",
        music21="beethoven|haydn|mozart",
        pattern="**/*.mxl",
    ),
    Source(
        "monteverdi",
        "madrigal",
        "public domain music; encodings in music21 (BSD-3-Clause), no restriction noted",
        "Monteverdi madrigals, books 3 to 5, from the music21 corpus",
        music21="monteverdi",
        pattern="*.mxl",
    ),
]

# Measured on, never trained on: Palestrina's masses (Renaissance polyphony) carry "Copyright 2000,
# John Miller" without a licence to pass them on, so they may be read here but not shipped.
HELD_OUT = [
    Source(
        "palestrina",
        "renaissance mass",
        "copyright John Miller (2000), distributed with music21; used locally, not shipped",
        "Palestrina mass movements (Humdrum) from the music21 corpus",
        music21="palestrina",
        pattern="*.krn",
        limit=80,
    ),
]

# Notices that keep a repertory out of the base (checked in every source file's text).
RESTRICTIONS = re.compile(r"non-?commercial|all rights reserved|copyright\s+(?:©\s*)?\d{4}", re.I)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "base-corpus")
    parser.add_argument("--jobs", type=int, default=max(1, (os.cpu_count() or 1)))
    args = parser.parse_args()
    try:
        import music21  # noqa: F401
    except ImportError:
        print("build_base_corpus: needs music21 (pip install music21)", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    manifest = {"base": [], "held_out": []}
    for group, sources in (("base", BASE), ("held_out", HELD_OUT)):
        for source in sources:
            folder = args.out / group / source.name
            if source.shared:
                count = link_shared(source, folder)
            else:
                check_licence(source, restricted_ok=group == "held_out")
                count = convert_repertory(source, folder, args.jobs)
            entry = {
                "name": source.name,
                "style": source.style,
                "licence": source.licence,
                "origin": source.origin,
                "files": count,
                "fingerprint": fingerprint(folder),
            }
            manifest[group].append(entry)
            print(f"{group}/{source.name}: {count} files ({source.licence})")
    manifest["fingerprint"] = hashlib.sha256(
        "".join(e["fingerprint"] for e in manifest["base"]).encode()
    ).hexdigest()
    temporary = args.out / "MANIFEST.json.tmp"
    temporary.write_text(json.dumps(manifest, indent=1) + "\n")
    os.replace(temporary, args.out / "MANIFEST.json")
    print(f"Wrote {args.out / 'MANIFEST.json'} (fingerprint {manifest['fingerprint'][:12]})")
    return 0


def link_shared(source: Source, folder: Path) -> int:
    """Relative symbolic links to every MIDI file of a ../shared collection."""
    origin = SHARED / source.shared
    if not origin.is_dir():
        raise SystemExit(
            f"build_base_corpus: {origin} is missing; put ../shared beside the project"
        )
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    for path in sorted(origin.rglob("*")):
        if path.suffix.lower() not in (".mid", ".midi"):
            continue
        link = folder / path.relative_to(origin).as_posix().replace("/", "__")
        if not link.is_symlink():
            link.symlink_to(os.path.relpath(path, folder))
        count += 1
    return count


def repertory_files(source: Source) -> list[Path]:
    from music21 import corpus

    root = Path(corpus.__file__).parent
    files = []
    for name in source.music21.split("|"):
        files.extend(sorted((root / name).glob(source.pattern)))
    return files[: source.limit] if source.limit else files


def check_licence(source: Source, *, restricted_ok: bool) -> None:
    """Stop when a file of a base repertory carries a restricting notice."""
    for path in repertory_files(source):
        text = read_text(path)
        notice = RESTRICTIONS.search(text)
        if notice and not restricted_ok:
            raise SystemExit(
                f"build_base_corpus: {path} says {notice.group(0)!r}; leave {source.name} out of "
                "the base or record its licence"
            )


def read_text(path: Path) -> str:
    """A source file's text; a compressed MusicXML (.mxl) is a zip archive."""
    if path.suffix == ".mxl":
        import zipfile

        with zipfile.ZipFile(path) as archive:
            return "".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist())
    return path.read_text(encoding="utf-8", errors="replace")


def convert_repertory(source: Source, folder: Path, jobs: int) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    files = repertory_files(source)
    todo = [p for p in files if not (folder / f".done-{p.parent.name}-{p.stem}").exists()]
    if todo:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            for path, result in zip(todo, pool.map(convert_file, todo, [folder] * len(todo))):
                if isinstance(result, str):
                    print(f"  skipped {path.name}: {result}", file=sys.stderr)
    return len(list(folder.glob("*.mid")))


def convert_file(path: Path, folder: Path) -> int | str:
    """Each score in `path` (an ABC file may hold many tunes) as MIDI. Returns how many were
    written, or why the file could not be read. A tune music21 cannot write is skipped alone."""
    from music21 import converter, stream

    prefix = f"{path.parent.name}-{path.stem}"
    done = folder / f".done-{prefix}"  # the same file fails the same way: do not retry it
    signal.signal(signal.SIGALRM, _too_slow)
    signal.alarm(SECONDS_PER_FILE)  # a few scores send music21 into a loop for hours
    try:
        parsed = converter.parse(path)
        scores = list(parsed.scores) if isinstance(parsed, stream.Opus) else [parsed]
    except Exception as exc:  # noqa: BLE001 - music21 raises many kinds on odd encodings; skip it
        signal.alarm(0)
        done.touch()
        return f"{type(exc).__name__}: {exc}"[:200]
    written = 0
    for index, score in enumerate(scores):
        target = folder / f"{prefix}-{index:04d}.mid"
        temporary = target.with_suffix(".tmp")
        try:
            try:
                score.write("midi", fp=str(temporary))
            except TimeoutError:
                raise
            except Exception:  # noqa: BLE001 - often badly formed repeats: play it once through
                drop_repeats(score)
                score.write("midi", fp=str(temporary))
        except TimeoutError:
            temporary.unlink(missing_ok=True)
            done.touch()
            return f"took over {SECONDS_PER_FILE} s ({written} of {len(scores)} written)"
        except Exception:  # noqa: BLE001 - this tune only
            temporary.unlink(missing_ok=True)
            continue
        os.replace(temporary, target)
        written += 1
    signal.alarm(0)
    done.touch()
    return written if written else "no tune could be written as MIDI"


SECONDS_PER_FILE = 240


def _too_slow(signum, frame):
    raise TimeoutError


def drop_repeats(score) -> None:
    """Remove repeat barlines and signs (segno, coda...) so the tune is written once through."""
    from music21 import bar, repeat, stream

    for measure in score.recurse().getElementsByClass(stream.Measure):
        if isinstance(measure.leftBarline, bar.Repeat):
            measure.leftBarline = None
        if isinstance(measure.rightBarline, bar.Repeat):
            measure.rightBarline = None
    for sign in list(score.recurse().getElementsByClass(repeat.RepeatExpression)):
        sign.activeSite.remove(sign)


def fingerprint(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in (".mid", ".midi")):
        digest.update(path.name.encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


if __name__ == "__main__":
    sys.exit(main())
