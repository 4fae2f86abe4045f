"""The report's plots, each a PNG data URI so the page stays one self-contained file."""

from __future__ import annotations

import base64
import io

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, NullLocator
from sklearn.metrics import precision_recall_curve

from imr_ml.reporting.report_data import Z95
from imr_ml.reporting.report_words import pct

OVERTURN, UPHOLD, NEUTRAL = "#c44e52", "#4c72b0", "#8c8c8c"


def plots(d: dict, ev: dict | None) -> dict[str, str]:
    """{name: PNG data URI} of every plot the report has data for."""
    out = {}
    if d["effects"]:
        out["effects"] = _effects_plot(d["effects"])
    if d.get("permutation_importance", {}).get("groups"):
        out["permutation"] = _permutation_plot(d["permutation_importance"])
    if ev:
        out["calibration"] = _calibration_plot(d["calibration"])
        out["precision_recall"] = _pr_plot(ev["y"], ev["p"], d["performance"], d.get("operating_points") or [])
        out["categories"] = _categories_plot(d["categories"])
    elif d["knowledge"]["categories"]:
        out["category_rates"] = _category_rates_plot(d["knowledge"]["categories"])
    if not d["builtin"]:
        out["rules"] = _rules_plot(d["knowledge"]["rules"])
        counts = ((d["trained_on"] or {}).get("profile") or {}).get("categories")
        if counts:
            out["data"] = _data_plot(counts, d["knowledge"]["categories"])
    return out


def _figure(size: tuple[float, float]):
    """A figure and its axes from matplotlib's object API: no pyplot, so no global figure
    registry or backend is touched (savefig renders PNG with Agg either way)."""
    fig = Figure(figsize=size)
    return fig, fig.subplots()


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=90)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _short(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _effects_plot(es: list[dict]) -> str:
    fig, ax = _figure((11, 0.35 * len(es) + 1.3))
    yy = np.arange(len(es))
    for i, e in enumerate(es):
        colour = OVERTURN if e["coef"] > 0 else UPHOLD
        lo, hi = e["odds_ratio_ci"] or (e["odds_ratio"], e["odds_ratio"])
        ax.plot([lo, hi], [i, i], color=colour, lw=2, alpha=0.5)
        ax.plot(e["odds_ratio"], i, "o", color=colour, mfc=colour if e["learnt"] else "white")
    ax.axvline(1, color=NEUTRAL, lw=1, ls="--")
    ax.set_xscale("log")
    ticks = [t for t in (0.1, 0.25, 0.5, 1, 2, 4, 10) if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticklabels([f"×{t:g}" for t in ticks])
    ax.set_yticks(yy, [f"{_short(e['label'].removeprefix('guideline: '), 70)} ({_items(e['n_items'])})" for e in es],
                  fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("odds of overturn multiplied by (95% interval); right of ×1: towards overturn\n"
                  "(n) training items it fired on; hollow: guideline prior, not learnt (fewer than 10 items)")
    ax.set_title("What moves outcomes: guideline rules, signals and fields")
    return _png(fig)


def _items(n: int | None) -> str:
    return "n ?" if n is None else f"n {n}"


def _permutation_plot(pi: dict) -> str:
    groups = pi["groups"]
    fig, ax = _figure((7, 2.8))
    names = list(groups)
    ax.barh([groups[g]["title"] for g in names], [groups[g]["auc_drop_mean"] for g in names],
            xerr=[Z95 * groups[g]["auc_drop_sd"] for g in names], color="#8172b2")
    ax.invert_yaxis()
    ax.set_xlabel("ranking accuracy (ROC AUC) lost when the group is scrambled")
    ax.set_title("Which kinds of evidence the ranking relies on")
    return _png(fig)


def _calibration_plot(cal: dict) -> str:
    bins = cal["bins"]
    top = max(max(b["observed_ci"][1] for b in bins), max(b["p_to"] for b in bins)) * 1.08
    fig, ax = _figure((5.5, 4.6))
    ax.plot([0, top], [0, top], ls="--", color=NEUTRAL, lw=1, label="perfect calibration")
    x = [b["mean_predicted"] for b in bins]
    yv = [b["observed_rate"] for b in bins]
    err = [[b["observed_rate"] - b["observed_ci"][0] for b in bins],
           [b["observed_ci"][1] - b["observed_rate"] for b in bins]]
    ax.errorbar(x, yv, yerr=err, fmt="o", color=OVERTURN, capsize=3, label="observed (95% interval)")
    ax.set(xlim=(0, top), ylim=(0, top), xlabel="predicted chance of overturn (bin average)",
           ylabel="share actually overturned", title="Calibration: do the probabilities hold?")
    ax.legend(fontsize=8, loc="upper left")
    return _png(fig)


MARKERS = ("o", "s", "D")


def _pr_plot(y, p, perf: dict, ops: list[dict]) -> str:
    prec, rec, _ = precision_recall_curve(y, p)
    fig, ax = _figure((5.5, 4.6))
    ax.step(rec, prec, where="post", color="#55a868", label="model")
    ax.axhline(y.mean(), ls="--", color=NEUTRAL, lw=1, label=f"base rate {pct(float(y.mean()))} (no model)")
    for o, marker in zip([o for o in ops if o["precision"] is not None], MARKERS):
        plo, phi = o["precision_interval"] or (o["precision"], o["precision"])
        rlo, rhi = o["recall_interval"] or (o["recall"], o["recall"])
        ax.errorbar(o["recall"], o["precision"], xerr=[[o["recall"] - rlo], [rhi - o["recall"]]],
                    yerr=[[o["precision"] - plo], [phi - o["precision"]]], fmt=marker, color=OVERTURN, ms=6,
                    capsize=2, alpha=0.85, label=f"{o['name']} (P ≥ {pct(o['threshold'])}): {o['flagged']} flagged")
    ap = perf["metrics"]["average_precision"]
    ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="share of all overturns found (recall)",
           ylabel="share of flagged that were overturned (precision)",
           title=f"Precision-recall (average precision {ap:.2f})")
    ax.legend(loc="upper right", fontsize=8)
    return _png(fig)


def _categories_plot(cats: list[dict]) -> str:
    cats = cats[:15]
    fig, ax = _figure((9, 0.42 * len(cats) + 1.8))
    yy = np.arange(len(cats))
    for i, c in enumerate(cats):
        lo, hi = c["observed_ci"]
        ax.plot([lo, hi], [i, i], color="#937860", lw=2, alpha=0.5)
        ax.plot(c["observed_rate"], i, "o", color="#937860", label="observed (95% interval)" if i == 0 else None)
        if c["mean_predicted"] is not None:
            ax.plot(c["mean_predicted"], i, "x", color=UPHOLD, label="model's average prediction" if i == 0 else None)
        if c["published_rate"] is not None:
            ax.plot(c["published_rate"], i, "|", color=NEUTRAL, ms=12,
                    label="published or assumed rate" if i == 0 else None)
    ax.set_yticks(yy, [f"{_short(c['label'], 50)} ({c['n_overturned']}/{c['n_items']})" for c in cats], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("share overturned")
    ax.set_title("Overturn rate by treatment category (overturned/items)")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3)
    return _png(fig)


def _category_rates_plot(known: list[dict]) -> str:
    colours = ["#937860" if k["source"].startswith("published") else "#cccccc" for k in known]
    return bar_chart([_short(k["label"], 45) for k in known], [k["rate"] for k in known], colours,
                     "overturn rate the model starts from (brown: published DWC/CWCI figure; grey: assumed)",
                     "Category rates the model knows")


def _rules_plot(rules: list[dict]) -> str:
    rules = sorted((r for r in rules if r["fitted"] is not None), key=lambda r: -abs(r["fitted"] - r["prior"]))[:15]
    fig, ax = _figure((11, 0.35 * len(rules) + 1.6))
    for i, r in enumerate(rules):
        ax.annotate("", (r["fitted"], i), (r["prior"], i), arrowprops={"arrowstyle": "->", "color": NEUTRAL})
        ax.plot(r["prior"], i, "o", mfc="white", color="#555555",
                label="guideline's prior strength" if i == 0 else None)
        ax.plot(r["fitted"], i, "o", color=OVERTURN if r["fitted"] > 0 else UPHOLD,
                label="after learning from the letters" if i == 0 else None)
    ax.axvline(0, color=NEUTRAL, lw=1)
    ax.set_yticks(np.arange(len(rules)), [f"{_short(r['label'], 80)} ({r['n_items'] or 0})" for r in rules], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("log-odds of overturn (right: towards overturn)\n(n) = training items the rule applied to")
    ax.set_title("Guideline rules the letters moved most")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2)
    return _png(fig)


def _data_plot(counts: dict, known: list[dict]) -> str:
    labels = {k["category"]: k["label"] for k in known}
    items = list(counts.items())[:15]
    return bar_chart([_short(labels.get(c, c), 45) for c, _ in items], [n for _, n in items], "#64b5cd",
                     "training items", "The data the model learnt from, by treatment category")


def bar_chart(labels: list[str], values: list, colour, xlabel: str, title: str) -> str:
    """Horizontal bars, one per label, top to bottom; `colour` is one colour or one per bar."""
    fig, ax = _figure((8, 0.32 * len(labels) + 1.2))
    ax.barh(labels, values, color=colour)
    ax.invert_yaxis()
    ax.tick_params(axis="y", labelsize=8)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    return _png(fig)
