"""Synthetic IMR final-determination letters with a KNOWN truth (`imr-ml synth`).

Real letters cannot ship with the project, so the test suite, the demo and the benchmarks
use letters generated here. Every sentence is written for this project (phrase bank:
`features/synth_phrases.toml`); real letters were only used to learn the *layout*.

Letter ``i`` of a run with seed ``s`` is drawn from its own random stream (seeded from ``s``
and ``i``), so any range of letters can be generated independently and a letter does not
depend on how many others are generated. The stages: `draw` the latent facts (the
data-generating process of `dgp`), `render` them in the letter's layout, read the truth rows
off both.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from imr_ml.synth.dgp import DEFAULT_LAYOUT_MIX, EFFECTS, INTERCEPT, LayoutMix, dgp
from imr_ml.synth.draw import draw_letter
from imr_ml.synth.layouts import LAYOUTS
from imr_ml.synth.randomness import LetterRandom
from imr_ml.synth.records import LatentItem, LatentLetter, ShownItem
from imr_ml.synth.render import render_letter
from imr_ml.textio import new_folder

__all__ = ["DEFAULT_LAYOUT_MIX", "EFFECTS", "INTERCEPT", "SynthOutError", "generate_corpus", "generate_letter",
           "iter_letters", "parse_layout_mix", "write_pdf"]


def generate_letter(i: int, seed: int = 0, layout_mix: LayoutMix = DEFAULT_LAYOUT_MIX) -> tuple[str, str, list[dict]]:
    """Letter number ``i`` of the run ``seed``: (letter_id, text, truth rows)."""
    rng = LetterRandom(seed * 4_294_967_296 + i)
    letter = draw_letter(rng, i, seed, layout_mix)
    text, shown = render_letter(letter, rng)
    rows = [_truth_row(letter, k, it, s) for k, (it, s) in enumerate(zip(letter.items, shown))]
    return letter.case_number, text, rows


def _truth_row(letter: LatentLetter, k: int, it: LatentItem, shown: ShownItem) -> dict:
    """One line of truth.jsonl: the item as shown, its outcome and every latent value."""
    row = {
        "letter_id": letter.case_number,
        "item_index": k,
        "item": " ".join(shown.item.split()),
        "category": it.category,
        "p_overturned": round(it.p, 6),
        "label": it.label,
        "decision": "overturned" if it.label else "upheld",
        "layout": letter.layout,
        "original_request": shown.original_request,
        "authorized_portion": shown.authorized_portion,
        "partial_authorisation": int(shown.original_request is not None),
        "item_state": it.item_state,
        "quantity": it.quantity,
        "prior_surgery": letter.prior_surgery,
        "chronicity_days": letter.chronicity_days,
        "age": letter.age,
        "sex": "female" if letter.female else "male",
        "body_region": letter.region["name"],
        "date_of_injury": letter.date_of_injury.isoformat(),
        "ur_denial_date": letter.ur_date.isoformat(),
        "decision_date": letter.decision.isoformat(),
        "n_items": len(letter.items),
        "logit": round(it.logit, 6),
        "noise": round(it.noise, 6),
    }
    row.update(it.x)
    return row


def iter_letters(n: int, seed: int = 0, start: int = 0,
                 layout_mix: LayoutMix = DEFAULT_LAYOUT_MIX) -> Iterator[tuple[str, str, list[dict]]]:
    """Letters ``start`` .. ``start + n - 1`` of run ``seed``, in memory."""
    for i in range(start, start + n):
        yield generate_letter(i, seed, layout_mix)


def write_pdf(text: str, path: str | Path) -> None:
    """Write the letter text as a PDF: US letter pages, core Courier 8pt, one text line per
    line (pypdf reads the same lines back). ~3 ms a letter."""
    from fpdf import FPDF  # 0.5 s to import, and only --pdf needs it

    pdf = FPDF(format="letter", unit="mm")
    pdf.set_auto_page_break(False)
    pdf.set_font("Courier", size=8)
    line_h, margin = 3.6, 12.0
    bottom = pdf.h - margin
    y = None
    for line in text.split("\n"):
        if y is None or y > bottom:
            pdf.add_page()
            y = margin + line_h
        if line.strip():
            pdf.text(margin, y, line.encode("latin-1", "replace").decode("latin-1"))
        y += line_h
    pdf.output(str(path))


def _write_bytes(path: str, data: bytes) -> None:
    """Create/overwrite a small file (cheaper than Path.write_text per file)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def parse_layout_mix(spec: str) -> LayoutMix:
    """'2016=0.8,2013=0.1,2014=0.1' (or a single layout name) -> normalised mix."""
    spec = spec.strip()
    if "=" not in spec:
        parts = [(spec, 1.0)]
    else:
        parts = []
        for chunk in spec.split(","):
            name, _, weight = chunk.partition("=")
            parts.append((name.strip(), float(weight)))
    known = set(LAYOUTS)
    for name, w in parts:
        if name not in known:
            raise ValueError(f"unknown layout {name!r} (known: {', '.join(sorted(known))})")
        if w < 0:
            raise ValueError("layout weights must be >= 0")
    total = sum(w for _, w in parts)
    if total <= 0:
        raise ValueError("layout weights must sum to > 0")
    return tuple((n, w / total) for n, w in parts)


class SynthOutError(ValueError):
    """--out holds something synth must not write over; the message says what."""


def generate_corpus(n_letters: int, out_dir: str | Path, seed: int = 0, pdf: bool = False,
                    start: int = 0, layout_mix: LayoutMix = DEFAULT_LAYOUT_MIX,
                    progress: Callable[[int], None] | None = None) -> dict:
    """Write ``n_letters`` letters as DIR/<case number>.txt (+ .pdf), DIR/truth.jsonl and
    DIR/dgp.json; return a summary. ``progress(n)`` hears how many letters are written.

    DIR is new: written as a folder beside it and renamed into place whole, so a stopped
    run leaves no DIR (its temp folder goes with it, or with the next run after a kill) and
    truth always matches the letters. An existing DIR is never written into: one that holds
    exactly this run is reused as it is (same seed, range and layouts: the same letters), an
    empty one is replaced, any other is refused with `SynthOutError`.
    """
    if n_letters < 1:
        raise ValueError("--letters must be at least 1")
    if start < 0:
        raise ValueError("--start must be >= 0")
    out = Path(out_dir)
    meta = dgp()
    meta.update(seed=seed, start=start, n_letters=n_letters, layout_mix=dict(layout_mix))
    t0 = time.perf_counter()
    counts = _existing_run(out, meta, pdf)
    reused = counts is not None
    if counts is None:
        with new_folder(out) as tmp:
            counts = _write_letters(tmp, meta, pdf, progress)
            (tmp / "dgp.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    secs = time.perf_counter() - t0
    n_items, n_over, layouts = counts
    return ({"reused": True} if reused else {}) | {
        "out_dir": str(out),
        "seed": seed,
        "start": start,
        "n_letters": n_letters,
        "n_items": n_items,
        "n_overturned": n_over,
        "overturn_rate": round(n_over / n_items, 4) if n_items else 0.0,
        "layouts": dict(sorted(layouts.items())),
        "pdf": pdf,
        "seconds": round(secs, 3),
        "letters_per_second": round(n_letters / secs, 1) if secs > 0 else None,
        "truth": str(out / "truth.jsonl"),
        "dgp": str(out / "dgp.json"),
    }


Counts = tuple[int, int, dict[str, int]]  # items, overturned items, letters per layout


def _write_letters(folder: Path, meta: dict, pdf: bool, progress: Callable[[int], None] | None) -> Counts:
    """The run's letters and truth.jsonl, written into `folder`."""
    n_items = n_over = 0
    layouts: dict[str, int] = {}
    n_letters = meta["n_letters"]
    with open(folder / "truth.jsonl", "w", encoding="utf-8") as truth:
        for letter_id, text, rows in iter_letters(n_letters, meta["seed"], meta["start"],
                                                  tuple(meta["layout_mix"].items())):
            _write_bytes(os.path.join(folder, letter_id + ".txt"), text.encode("utf-8"))
            if pdf:
                write_pdf(text, folder / f"{letter_id}.pdf")
            for r in rows:
                truth.write(json.dumps(r) + "\n")
            n_items += len(rows)
            n_over += sum(r["label"] for r in rows)
            lay = rows[0]["layout"]
            layouts[lay] = layouts.get(lay, 0) + 1
            written = sum(layouts.values())
            if progress and (written % 100 == 0 or written == n_letters):
                progress(written)
    return n_items, n_over, layouts


def _existing_run(out: Path, meta: dict, pdf: bool) -> Counts | None:
    """None when `out` is missing or empty (write it); the counts of the same run already
    there (reuse it); else SynthOutError saying what `out` holds."""
    if out.exists() and not out.is_dir():
        raise SynthOutError(f"--out {out} exists and is not a folder")
    if not out.is_dir() or not any(out.iterdir()):
        return None
    try:
        there = json.loads((out / "dgp.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise SynthOutError(f"--out {out} is not empty; synth writes a new folder (name a new or empty one)") from None
    meta = json.loads(json.dumps(meta))  # as dgp.json holds it (tuples as lists)
    keys = ("seed", "start", "n_letters", "layout_mix", "effects")
    if {k: there.get(k) for k in keys} != {k: meta.get(k) for k in keys}:
        first = there.get("start", 0)
        raise SynthOutError(f"--out {out} already holds letters {first}-{first + there.get('n_letters', 0) - 1} of "
                            f"seed {there.get('seed')} (its dgp.json); synth never rewrites a truth: write letters "
                            f"{meta['start']}-{meta['start'] + meta['n_letters'] - 1} to a new folder")
    return _counts(out, pdf)


def _counts(out: Path, pdf: bool) -> Counts:
    """What a finished folder of this run holds, checked against its letters; SynthOutError
    when they disagree (a folder changed since, or left by an older, non-atomic synth)."""
    n_items = n_over = 0
    layouts: dict[str, int] = {}
    ids = set()
    try:
        with open(out / "truth.jsonl", encoding="utf-8") as fh:
            for line in fh:
                r = json.loads(line)
                n_items += 1
                n_over += r["label"]
                layouts[r["layout"]] = layouts.get(r["layout"], 0) + (r["item_index"] == 0)
                ids.add(r["letter_id"])
    except (OSError, ValueError, KeyError, TypeError):
        ids = set()
    files = {p.stem for p in out.glob("*.txt")}
    if not ids or files != ids or (pdf and {p.stem for p in out.glob("*.pdf")} != ids):
        raise SynthOutError(f"--out {out} holds this run's dgp.json but its letters do not match truth.jsonl; "
                            "write to a new folder")
    return n_items, n_over, layouts
