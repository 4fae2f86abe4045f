"""The terminal table of an evaluation (`imr-ml evaluate`, the demo): text for a reader,
apart from the numbers `imr_ml.modeling.training.train.evaluate` computes."""

from __future__ import annotations

from imr_ml.modeling.evaluation.metrics import METRICS
from imr_ml.modeling.training.card import fmt_ci


def format_evaluation(report: dict, per_category: bool = True) -> str:
    """The terminal table of an evaluation report.

    The model beside its baselines, each value with its 95% letter-bootstrap interval, then the
    paired model - baseline differences.

    Parameters
    ----------
    report : dict
        What `imr_ml.modeling.training.train.evaluate` returned.
    per_category : bool
        Add the model's scores per treatment category.

    Returns
    -------
    str
        Lines of text.
    """
    cats = report.get("by_category", {}) if per_category else {}
    labels = ["model", *report["baselines"], *(f"{c} ({s['n_items']})" for c, s in cats.items())]
    w = max(len(x) for x in labels)

    def line(name, s):
        return f"  {name:<{w}} " + " ".join(f"{fmt_ci(s, k):<18}" for k in METRICS).rstrip()

    out = [f"{report['n_letters']} letters, {report['n_items']} items, {report['n_overturned']} overturned "
           f"(base rate {report['base_rate']:.3f}); [95% interval, letters resampled]",
           f"  {'':<{w}} " + " ".join(f"{h:<18}" for h in ("ROC AUC", "AP", "Brier", "log-loss", "ECE")).rstrip(),
           line("model", report), *(line(n, s) for n, s in report["baselines"].items())]
    if report.get("vs_baselines"):
        out.append("model - baseline (paired, same letters resampled):")
        out += [f"  {n:<{w}} ROC AUC {fmt_ci(d, 'roc_auc_diff', signed=True):<21} "
                f"AP {fmt_ci(d, 'average_precision_diff', signed=True)}" for n, d in report["vs_baselines"].items()]
    if cats:
        out.append("per category (model):")
        out += [line(f"{c} ({s['n_items']})", s) for c, s in cats.items()]
    return "\n".join(out)
