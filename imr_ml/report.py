"""The feature-importance report (`imr-ml report`): what drives the model, how well it is
calibrated, and where it adds to the per-treatment base rates. HTML with plots, and the
same numbers as JSON."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np

from imr_ml.schema import GROUP_TITLES
from imr_ml.textio import to_json

PERMUTATION_REPEATS = 5


def global_weights(model) -> dict:
    """Per feature group: total |coefficient| and the strongest features either way."""
    from imr_ml.features import feature_groups
    from imr_ml.train import coefficients

    coefs = coefficients(model)
    names = list(coefs)
    out = {}
    for group, idx in feature_groups(names).items():
        items = sorted(((names[i], coefs[names[i]]) for i in idx), key=lambda kv: -abs(kv[1]))
        out[group] = {
            "n_features": len(idx),
            "sum_abs_coef": round(float(sum(abs(c) for _, c in items)), 4),
            "top_overturn": [{"feature": n, "coef": round(c, 4)} for n, c in items if c > 0][:10],
            "top_uphold": [{"feature": n, "coef": round(c, 4)} for n, c in items if c < 0][:10],
        }
    return out


def permutation_importance_by_group(model, X, y, seed: int = 0) -> dict:
    """Drop in ROC AUC when one feature group's columns are shuffled across items
    (held-out data; the AUC of the uncalibrated score equals the calibrated one's)."""
    from sklearn.metrics import roc_auc_score

    from imr_ml.features import feature_groups
    from imr_ml.train import fitted_pipeline

    if len(set(y.tolist())) < 2:
        return {}
    pipe = fitted_pipeline(model)
    Z = pipe[:-1].transform(X)
    Z = Z.tocsr() if hasattr(Z, "tocsr") else np.asarray(Z)
    clf = pipe[-1]
    base = roc_auc_score(y, clf.decision_function(Z))
    names = [str(n) for n in pipe[:-1].get_feature_names_out()]
    rng = np.random.default_rng(seed)
    out = {}
    for group, idx in feature_groups(names).items():
        drops = []
        for _ in range(PERMUTATION_REPEATS):
            Zp = Z.copy().tolil() if hasattr(Z, "tolil") else Z.copy()
            perm = rng.permutation(Z.shape[0])
            Zp[:, idx] = Z[perm][:, idx]
            drops.append(base - roc_auc_score(y, clf.decision_function(Zp.tocsr() if hasattr(Zp, "tocsr") else Zp)))
        out[group] = {"auc_drop_mean": round(float(np.mean(drops)), 4), "auc_drop_sd": round(float(np.std(drops)), 4)}
    return {"base_auc": round(float(base), 4), "groups": out}


def per_category(cats, y, p) -> list[dict]:
    """Base rate, mean prediction and lift per treatment category."""
    from sklearn.metrics import roc_auc_score

    cats = np.asarray(cats)
    base_all = float(y.mean()) if len(y) else 0.0
    top = p >= np.quantile(p, 0.8) if len(p) else p.astype(bool)
    rows = []
    for cat in sorted(set(cats.tolist()), key=lambda c: -(cats == c).sum()):
        m = cats == cat
        yc, pc = y[m], p[m]
        rows.append({
            "category": cat, "n_items": int(m.sum()), "n_overturned": int(yc.sum()),
            "base_rate": round(float(yc.mean()), 4), "mean_predicted": round(float(pc.mean()), 4),
            "roc_auc": round(float(roc_auc_score(yc, pc)), 4) if 0 < yc.sum() < len(yc) else None,
            "share_in_top_quintile": round(float(top[m].mean()), 4),
        })
    rows.append({"category": "all", "n_items": int(len(y)), "n_overturned": int(y.sum()),
                 "base_rate": round(base_all, 4), "mean_predicted": round(float(p.mean()), 4),
                 "lift_top_quintile": round(float(y[top].mean() / base_all), 3) if base_all and top.any() else None})
    return rows


def build_report(loaded, rows: list[dict] | None, out_dir: str | Path, seed: int = 0) -> dict:
    """Write report.html, report.json and the plots into `out_dir` (all at once, when all are
    made); return the numbers."""
    from imr_ml.textio import atomic_folder

    with atomic_folder(out_dir) as tmp:
        data = _build(loaded, rows, tmp, seed)
        (tmp / "report.json").write_text(to_json(data), encoding="utf-8")
        (tmp / "report.html").write_text(_html(data), encoding="utf-8")
    return data


def _build(loaded, rows: list[dict] | None, out_dir: Path, seed: int) -> dict:
    from imr_ml.baselines import categories
    from imr_ml.metrics import reliability_table, score
    from imr_ml.train import canonical_rows, frame, labels

    manifest = loaded.manifest
    data = {"model": str(loaded.path), "model_sha256": manifest.get("model_sha256"),
            "trained_on": manifest.get("data"), "cv": manifest.get("cv"),
            "global_weights": global_weights(loaded.model), "plots": {}}
    data["trained_on"] = {k: v for k, v in (data["trained_on"] or {}).items() if k != "letter_hashes"}
    rows = canonical_rows(rows or [])
    if rows:
        X, y = frame(rows), labels(rows)
        p = loaded.model.predict_proba(X)[:, 1]
        cats = categories(X)
        data["held_out"] = {"n_items": int(len(y)), "metrics": score(y, p),
                            "reliability": reliability_table(y, p)}
        data["permutation_importance"] = permutation_importance_by_group(loaded.model, X, y, seed)
        data["per_category"] = per_category(cats, y, p)
        data["plots"] = _plots(y, p, data, out_dir)
    else:
        data["plots"] = _plots(None, None, data, out_dir)
    return data


def _plots(y, p, data: dict, out_dir: Path) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = {}

    def save(fig, name):
        fig.tight_layout()
        fig.savefig(out_dir / name, dpi=110)
        plt.close(fig)
        files[name.rsplit(".", 1)[0]] = name

    gw = data["global_weights"]
    fig, ax = plt.subplots(figsize=(6, 3))
    groups = list(gw)
    ax.barh([GROUP_TITLES.get(g, g) for g in groups], [gw[g]["sum_abs_coef"] for g in groups], color="#4c72b0")
    ax.set_xlabel("sum of |coefficient|")
    ax.set_title("Global weight by feature group")
    save(fig, "weights.png")
    if y is None:
        return files
    from sklearn.metrics import precision_recall_curve

    rel = data["held_out"]["reliability"]
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1)
    ax.plot([r["mean_predicted"] for r in rel], [r["observed_rate"] for r in rel], "o-", color="#c44e52")
    for r in rel:
        ax.annotate(str(r["n"]), (r["mean_predicted"], r["observed_rate"]), fontsize=7, xytext=(3, 3),
                    textcoords="offset points")
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="predicted P(overturned)", ylabel="observed overturn rate",
           title="Calibration (held-out items)")
    save(fig, "calibration.png")
    prec, rec, _ = precision_recall_curve(y, p)
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.step(rec, prec, where="post", color="#55a868")
    ax.axhline(y.mean(), ls="--", color="grey", lw=1, label=f"base rate {y.mean():.2f}")
    ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="recall (overturned)", ylabel="precision",
           title=f"Precision-recall (AP {data['held_out']['metrics']['average_precision']:.2f})")
    ax.legend(loc="upper right")
    save(fig, "precision_recall.png")
    pi = data["permutation_importance"].get("groups", {})
    if pi:
        fig, ax = plt.subplots(figsize=(6, 3))
        ax.barh([GROUP_TITLES.get(g, g) for g in pi], [v["auc_drop_mean"] for v in pi.values()],
                xerr=[v["auc_drop_sd"] for v in pi.values()], color="#8172b2")
        ax.set_xlabel("ROC AUC lost when the group is shuffled")
        ax.set_title("Permutation importance (held-out items)")
        save(fig, "permutation.png")
    cats = [c for c in data["per_category"] if c["category"] != "all"][:15]
    fig, ax = plt.subplots(figsize=(6, 4))
    yy = np.arange(len(cats))
    ax.barh(yy - 0.2, [c["base_rate"] for c in cats], height=0.4, label="observed overturn rate", color="#937860")
    ax.barh(yy + 0.2, [c["mean_predicted"] for c in cats], height=0.4, label="mean predicted", color="#4c72b0")
    ax.set_yticks(yy, [f"{c['category']} ({c['n_items']})" for c in cats], fontsize=8)
    ax.invert_yaxis()
    ax.legend(fontsize=8)
    ax.set_title("Per treatment category")
    save(fig, "categories.png")
    return files


def _table(rows: list[dict]) -> str:
    if not rows:
        return "<p>(none)</p>"
    cols = list(rows[0])
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(r.get(c)))}</td>" for c in cols) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.3f}"
    return "—" if v is None else str(v)


def _html(d: dict) -> str:
    t = d.get("trained_on") or {}
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>imr-ml report</title>",
        "<style>body{font-family:sans-serif;max-width:980px;margin:2em auto;color:#222}"
        "table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 8px;"
        "font-size:13px;text-align:left}img{max-width:100%}</style></head><body>",
        "<h1>What drives IMR outcomes in this model</h1>",
        f"<p>Model <code>{html.escape(d['model'])}</code>, trained on {t.get('n_items', '?')} items from "
        f"{t.get('n_letters', '?')} letters ({t.get('n_overturned', '?')} overturned). Features come only from "
        "pre-decision fields: the clinical summary, the requested item, the claims administrator's guideline "
        "and the dates.</p>",
        "<h2 id='weights'>Global weights by feature group</h2>",
        "<img src='weights.png' alt='global weights'>",
    ]
    for group, g in d["global_weights"].items():
        parts.append(f"<h3>{html.escape(GROUP_TITLES.get(group, group))} ({g['n_features']} features)</h3>")
        parts.append("<p>Towards overturn</p>" + _table(g["top_overturn"]))
        parts.append("<p>Towards uphold</p>" + _table(g["top_uphold"]))
    if "held_out" in d:
        parts += [
            f"<h2 id='heldout'>Held-out data ({d['held_out']['n_items']} items)</h2>",
            _table([{k: v for k, v in d["held_out"]["metrics"].items() if not isinstance(v, (dict, list))}]),
            "<h2 id='permutation'>Permutation importance</h2>", "<img src='permutation.png' alt='permutation importance'>",
            _table([{"group": g, **v} for g, v in d["permutation_importance"].get("groups", {}).items()]),
            "<h2 id='calibration'>Calibration</h2>", "<img src='calibration.png' alt='calibration curve'>",
            _table(d["held_out"]["reliability"]),
            "<h2 id='pr'>Precision-recall</h2>", "<img src='precision_recall.png' alt='precision-recall curve'>",
            "<h2 id='categories'>Per treatment category: base rates and model lift</h2>",
            "<img src='categories.png' alt='per category'>", _table(d["per_category"]),
        ]
    else:
        parts.append("<p>No held-out corpus given (<code>--corpus</code>): calibration, precision-recall and "
                     "permutation importance need labelled items the model has not seen.</p>")
    parts.append("</body></html>")
    return "\n".join(parts)
