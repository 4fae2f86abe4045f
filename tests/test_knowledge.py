"""Knowledge files that cannot lie: every file of `features/` is checked when it is loaded
(unknown keys, unknown signals, cue sets and categories, wrong types, bad patterns,
duplicate names: refused with `file:line` and a suggestion), the README's signal tables are
generated from the files, and a model directory keeps and reads the knowledge it was trained
with.

The files below are written for these tests: each case changes one word of a small valid
file, so the shipped files may change without breaking a case."""

import json
from pathlib import Path

import pytest

from imr_ml.knowledge.bundle import SHIPPED
from imr_ml.knowledge.errors import KnowledgeError
from imr_ml.knowledge.guidelines import load_guidelines
from imr_ml.knowledge.schema import SCHEMAS
from imr_ml.knowledge.taxonomy import load_taxonomy, load_toml
from imr_ml.reporting.reasons import load_reading, load_reasons
from imr_ml.scoring.hints import load_hints
from imr_ml.signals import load_rules
from imr_ml.signals.check import check_guidelines, check_hints, check_knowledge, check_signals

FEATURES = Path(__file__).resolve().parents[1] / "features"

SIGNALS = """\
[settings]
default_window = 6
terminators = [';', '\\bbut\\b']

[cues.negation]
role = "negation"
window = 8
pre = ['\\bno\\b', '\\bdenies\\b']

[cues.plan]
role = "hypothetical"
pre = ['\\bwill\\b']

[[signal]]
name = "smoker"
description = "The worker smokes."
exclude = ["negation", "plan"]
patterns = ['\\bsmok(es|er|ing)\\b']

[[signal]]
name = "red_flags"
description = "Red-flag findings."
exclude = ["negation"]
patterns = ['\\bfracture\\b']

[trial_max]
acupuncture = 6

[prior]
history_cues = ["plan"]
"""

GUIDELINES = """\
[prior]
signal_sd = 0.4

[[rule]]
name = "mri_red_flags"
label = "red flags documented"
when = { category = ["imaging_mri"], red_flags = true }
strength = 0.8
sd = 0.4
direction = "fixed"
citation = "ACOEM ch. 12"

[[rule]]
name = "mri_without_red_flags"
label = "no red flags documented"
when = { category = ["imaging_mri"], red_flags = false }
when_any = [{ smoker = true }, { prior_sessions = ">0" }]
item = '\\bmri\\b'
strength = -0.7
citation = "ACOEM ch. 12"
"""

TAXONOMY = """\
[[category]]
name = "imaging_mri"
label = "MRI"
terms = ['\\bmri\\b']
uphold_prior = 0.88
uphold_source = "assumed: none published"

[[category]]
name = "acupuncture"
label = "Acupuncture"
terms = ['acupunct']
uphold_prior = 0.90
uphold_source = "published: DWC 2017"
n_prior = 20

[[category]]
name = "other"
label = "Other"
terms = ['zzzz']
uphold_prior = 0.9
uphold_source = "assumed: none"

[[fallback]]
category = "acupuncture"
terms = ['needl']
why = "needling is acupuncture's kind"
"""

HINTS = """\
[[hint]]
when = { category = ["imaging_mri"], red_flags = false }
text = "document red flags for the {category_label}"

[[hint]]
when = { requested_quantity = "=0" }
text = "state the quantity ({requested_quantity})"
"""

REASONS = """\
[reading]
skip = ['should not be read']

[[reason]]
name = "no_red_flags"
label = "no red flags"
decision = "upheld"
terms = ['no red flags?']
negatable = true
"""

DRUGS = """\
[class.opioid]
label = "opioid analgesic"
category = "opioid"

[route.oral]
label = "oral"

[form.tablet]
route = "oral"
words = '\\btablets?\\b'

[[drug]]
ingredient = "hydrocodone"
class = "opioid"
mtus = "non-exempt"

[[drug]]
ingredient = "acetaminophen"
class = "opioid"
names = ["APAP"]

[[product]]
names = ["Norco", "HC-APAP"]
ingredients = ["hydrocodone", "acetaminophen"]
"""

ABBREVIATIONS = """\
[service.epidural]
category = "injection"
means = { ESI = "epidural steroid injection" }
words = '\\b(epidurals?|esis?)\\b'
"""

MINIMAL = {"signals.toml": SIGNALS, "guidelines.toml": GUIDELINES, "taxonomy.toml": TAXONOMY,
           "hints.toml": HINTS, "reasons.toml": REASONS, "drugs.toml": DRUGS, "abbreviations.toml": ABBREVIATIONS}


def _with_signals(check):
    """A cross-file check against the minimal signals and taxonomy files (written beside)."""
    def run(path):
        folder = Path(path).parent
        (folder / "sig.toml").write_text(SIGNALS)
        (folder / "tax.toml").write_text(TAXONOMY)
        check(path, str(folder / "sig.toml"), str(folder / "tax.toml"))
    return run


LOADERS = {
    "signals.toml": lambda p: (load_rules(p), _signals_against_taxonomy(p)),
    "guidelines.toml": lambda p: (load_guidelines(p), _with_signals(check_guidelines)(p)),
    "taxonomy.toml": lambda p: load_taxonomy(p),
    "hints.toml": lambda p: (load_hints(p), _with_signals(check_hints)(p)),
    "reasons.toml": lambda p: (load_reasons(p), load_reading(p)),
    "synth_phrases.toml": lambda p: load_toml("synth_phrases.toml", p),
    "drugs.toml": lambda p: load_toml("drugs.toml", p),
    "abbreviations.toml": lambda p: load_toml("abbreviations.toml", p),
}


def _signals_against_taxonomy(path):
    (Path(path).parent / "tax.toml").write_text(TAXONOMY)
    check_signals(path, str(Path(path).parent / "tax.toml"))


# (file, text in the valid file, the mistake, what the message must say)
MISTAKES = [
    ("signals.toml", 'exclude = ["negation", "plan"]', 'exlcude = ["negation", "plan"]',
     "signal 'smoker': unknown key 'exlcude' (did you mean 'exclude'?)"),
    ("signals.toml", 'exclude = ["negation"]', 'exclude = ["negaton"]',
     "signal 'red_flags': unknown cue set 'negaton' (did you mean 'negation'?)"),
    ("signals.toml", 'role = "negation"', 'role = "negaton"', "unknown role 'negaton' (did you mean 'negation'?)"),
    ("signals.toml", "default_window = 6\n", "default_window = 6\nsentence_final_abbreviations = ['pt']\n",
     "[settings] unknown abbreviation 'pt'"),  # one that ends sentences is an abbreviation first
    ("signals.toml", "window = 8", 'window = "8"', "[cues.negation] window: input should be a valid integer"),
    ("signals.toml", 'name = "red_flags"', 'name = "smoker"', "duplicate name 'smoker'"),
    ("signals.toml", "patterns = ['\\bfracture\\b']", "patterns = ['\\b(fracture\\b']",
     "signal 'red_flags': patterns[0]: not a regular expression"),
    ("signals.toml", "acupuncture = 6", "acupunture = 6",
     "[trial_max] unknown category 'acupunture' (did you mean 'acupuncture'?)"),
    ("signals.toml", 'history_cues = ["plan"]', 'history_cues = ["plans"]', "unknown cue set 'plans'"),
    ("guidelines.toml", 'when = { category = ["imaging_mri"], red_flags = false }',
     'when = { category = ["imaging_mri"], red_flag = false }',
     "rule 'mri_without_red_flags': when: unknown signal 'red_flag' (did you mean 'red_flags'?)"),
    ("guidelines.toml", "when_any = [{ smoker = true }", "when_any = [{ smokers = true }",
     "when_any[0]: unknown signal 'smokers' (did you mean 'smoker'?)"),
    ("guidelines.toml", 'when = { category = ["imaging_mri"], red_flags = true }',
     'when = { category = ["imaging_mr"], red_flags = true }',
     "rule 'mri_red_flags': when: category: unknown value 'imaging_mr' (did you mean 'imaging_mri'?)"),
    ("guidelines.toml", "strength = 0.8", "strenght = 0.8", "unknown key 'strenght' (did you mean 'strength'?)"),
    ("guidelines.toml", "strength = 0.8", 'strength = "high"', "strength: input should be a valid number"),
    ("guidelines.toml", 'direction = "fixed"', 'direction = "fxed"', "'fxed' is not allowed (did you mean 'fixed'?)"),
    ("guidelines.toml", 'name = "mri_without_red_flags"', 'name = "mri_red_flags"', "duplicate name 'mri_red_flags'"),
    ("guidelines.toml", "item = '\\bmri\\b'", "item = '\\bmri)\\b'", "item: not a regular expression"),
    ("guidelines.toml", 'prior_sessions = ">0"', 'prior_sessions = "more than none"', "is no condition"),
    ("guidelines.toml", "red_flags = true }", 'red_flags = ">0" }', "red_flags is true or false"),
    ("guidelines.toml", "signal_sd = 0.4", "signal_sdd = 0.4", "[prior] unknown key 'signal_sdd'"),
    ("taxonomy.toml", "n_prior = 20", "n_priors = 20", "unknown key 'n_priors' (did you mean 'n_prior'?)"),
    ("taxonomy.toml", 'name = "acupuncture"', 'name = "imaging_mri"', "duplicate name 'imaging_mri'"),
    ("taxonomy.toml", 'uphold_source = "published: DWC 2017"', 'uphold_source = "DWC 2017"',
     "says where the rate comes from"),
    ("taxonomy.toml", "uphold_prior = 0.90", "uphold_prior = 90", "uphold_prior: input should be less than 1"),
    ("taxonomy.toml", "terms = ['acupunct']", "terms = ['acupunct(']", "terms[0]: not a regular expression"),
    ("taxonomy.toml", 'name = "acupuncture"', 'name = "Acupuncture therapy"', "is not a name"),
    ("taxonomy.toml", 'category = "acupuncture"', 'category = "acupunctre"',
     "fallback #1: names no category of this file: 'acupunctre'"),
    ("taxonomy.toml", 'why = "needling', 'wy = "needling', "unknown key 'wy'"),
    ("hints.toml", 'red_flags = false }', 'red_flag = false }',
     "hint #1: when: unknown signal 'red_flag' (did you mean 'red_flags'?)"),
    ("hints.toml", 'category = ["imaging_mri"]', 'category = ["imaging_mris"]', "unknown value 'imaging_mris'"),
    ("hints.toml", "({requested_quantity})", "({requested_quantiy})",
     "placeholder {requested_quantiy} is no signal (did you mean 'requested_quantity'?)"),
    ("hints.toml", 'text = "state', 'txt = "state', "unknown key 'txt' (did you mean 'text'?)"),
    ("reasons.toml", 'decision = "upheld"', 'decision = "uphold"', "'uphold' is not allowed (did you mean 'upheld'?)"),
    ("reasons.toml", "negatable = true", "negateable = true", "unknown key 'negateable' (did you mean 'negatable'?)"),
    ("reasons.toml", "skip = [", "skipp = [", "[reading] unknown key 'skipp' (did you mean 'skip'?)"),
    ("reasons.toml", "terms = ['no red flags?']", "terms = ['no red flags?)']", "terms[0]: not a regular expression"),
    ("synth_phrases.toml", "people = [", "peopel = [", "unknown key 'peopel' (did you mean 'people'?)"),
    ("synth_phrases.toml", "visit_based = true", "visit_baesd = true", "unknown key 'visit_baesd'"),
    ("drugs.toml", 'ingredient = "hydrocodone"\nclass', 'ingredient = "hydrocodone"\nclas',
     "drug 'hydrocodone': unknown key 'clas' (did you mean 'class'?)"),
    ("drugs.toml", 'class = "opioid"\nnames', 'class = "opiod"\nnames',
     "unknown class 'opiod' (did you mean 'opioid'?)"),
    ("drugs.toml", 'ingredients = ["hydrocodone", "acetaminophen"]', 'ingredients = ["hydrocodone", "acetaminophn"]',
     "product 'Norco': ingredients: unknown ingredient 'acetaminophn'"),
    ("drugs.toml", 'mtus = "non-exempt"', 'mtus = "nonexempt"',
     "'nonexempt' is not allowed (did you mean 'non-exempt'?)"),
    ("drugs.toml", 'names = ["Norco", "HC-APAP"]', 'names = ["Norco", "APAP"]', "the name 'APAP' already stands for"),
    ("abbreviations.toml", 'category = "injection"', 'categori = "injection"',
     "[service.epidural] unknown key 'categori' (did you mean 'category'?)"),
]


def _written(tmp_path, name, old, new):
    text = MINIMAL[name] if name in MINIMAL else (FEATURES / name).read_text(encoding="utf-8")
    assert old in text
    changed = text.replace(old, new, 1)
    path = tmp_path / name
    path.write_text(changed, encoding="utf-8")
    differs = next((i for i, (a, b) in enumerate(zip(old.split("\n"), new.split("\n"))) if a != b), 0)
    line = text[: text.index(old)].count("\n") + 1 + differs  # the line the mistake is on
    return str(path), line


@pytest.mark.parametrize("name", sorted(MINIMAL))
def test_the_small_valid_files_load(tmp_path, name):
    path, _ = _written(tmp_path, name, "\n", "\n")
    LOADERS[name](path)


@pytest.mark.parametrize("name, old, new, says", MISTAKES, ids=[f"{m[0]}:{m[2][:24]}" for m in MISTAKES])
def test_a_mistake_in_a_knowledge_file_is_refused_with_its_file_and_line(tmp_path, name, old, new, says):
    path, line = _written(tmp_path, name, old, new)
    with pytest.raises(KnowledgeError) as err:
        LOADERS[name](path)
    message = str(err.value)
    assert message.startswith(f"{path}:{line}: "), message
    assert says in message and "\n" not in message


def test_every_knowledge_file_declares_its_schema():
    """A new file in features/ is read through `load_toml`, which needs its schema."""
    assert {p.name for p in FEATURES.glob("*.toml")} <= set(SCHEMAS)
    with pytest.raises(KeyError, match="no schema declared"):
        load_toml("drugs_nobody_declared.toml")


def test_the_shipped_files_load_and_agree():
    for path in FEATURES.glob("*.toml"):
        assert load_toml(path.name)
    check_knowledge(SHIPPED)
    from imr_ml.synth.phrasing import phrases

    assert phrases()["items"]


def test_a_file_that_is_not_toml_is_refused_with_its_line(tmp_path):
    path = tmp_path / "guidelines.toml"
    path.write_text('[[rule]]\nname = "x"\nlabel = "a\n')
    with pytest.raises(KnowledgeError, match=rf"^{path}:3: not valid TOML"):
        load_guidelines(str(path))


def test_every_problem_is_kept_and_the_message_counts_the_rest(tmp_path):
    path, _ = _written(tmp_path, "guidelines.toml", "strength = 0.8\nsd = 0.4", 'strength = "x"\nsd = -1')
    with pytest.raises(KnowledgeError) as err:
        load_guidelines(path)
    assert len(err.value.problems) == 2 and str(err.value).endswith("(and 1 more problem)")


def test_the_readme_signal_tables_are_generated_from_the_files():
    """features/README.md shows the tables `python -m imr_ml.signals.readme` writes: every
    signal of signals.toml with its description and cue sets, every structured field."""
    from imr_ml.signals.readme import README, regenerated, signals_table

    text = README.read_text(encoding="utf-8")
    assert regenerated(text) == text, "stale: run python -m imr_ml.signals.readme"
    for rule in load_rules().text_rules:
        assert f"| `{rule.name}` | {' '.join(rule.description.split())} |" in signals_table()


def test_the_readme_command_rewrites_a_stale_table(tmp_path):
    from imr_ml.signals.readme import README, main

    stale = tmp_path / "README.md"
    stale.write_text(README.read_text(encoding="utf-8").replace("| `working` |", "| `wroking` |"), encoding="utf-8")
    assert main(["--check", "--readme", str(stale)]) == 1
    assert main(["--readme", str(stale)]) == 0
    assert stale.read_text(encoding="utf-8") == README.read_text(encoding="utf-8")


def test_cli_refuses_a_misspelt_rules_file_in_one_line(tmp_path):
    from typer.testing import CliRunner

    from imr_ml.cli import app

    rules, line = _written(tmp_path, "signals.toml", 'exclude = ["negation", "plan"]', 'exlcude = ["negation"]')
    corpus = tmp_path / "c.jsonl"
    corpus.write_text(json.dumps({"letter_id": "a", "item_index": 0, "summary": "He smokes.", "item": "MRI"}) + "\n")
    res = CliRunner().invoke(app, ["signals", str(corpus), "--rules", rules])
    assert res.exit_code == 2
    assert res.output == f"error: {rules}:{line}: signal 'smoker': unknown key 'exlcude' (did you mean 'exclude'?)\n"


# ----------------------------------------------------------------------------- model directories

RULE = "therapy_continued_without_functional_improvement"
REQUEST = ("The injured worker completed 12 acupuncture visits for chronic low back pain. There was no "
           "documented functional improvement and pain is unchanged at 7/10 despite the sessions.",
           "Additional acupuncture 2x6 lumbar")


@pytest.fixture(scope="module")
def own_knowledge_model(synth_rows, tmp_path_factory):
    """A model trained with a copy of guidelines.toml whose label of one rule differs, saved;
    that copy is then changed again, as the shipped files change after a model is trained."""
    from imr_ml.modeling.training.train import TrainOptions, save, train

    folder = tmp_path_factory.mktemp("own")
    guidelines = folder / "guidelines.toml"
    shipped = (FEATURES / "guidelines.toml").read_text(encoding="utf-8")
    label = next(r.label for r in load_guidelines().rules if r.name == RULE)
    guidelines.write_text(shipped.replace(f'label = "{label}"', 'label = "LABEL AT TRAINING TIME"'))
    opts = TrainOptions(estimate=False, grid=({"prior_weight": 1.0},), n_splits=3, baselines=False,
                        calibration="sigmoid", pipeline={"guidelines": str(guidelines)})
    out = folder / "model"
    save(train(synth_rows[:600], opts), out)
    guidelines.write_text(shipped.replace(f'label = "{label}"', 'label = "LABEL CHANGED AFTER TRAINING"'))
    return out, label


def test_a_model_explains_with_the_knowledge_it_was_trained_with(own_knowledge_model):
    from imr_ml.modeling.modelfiles.knowledge_files import knowledge_steps
    from imr_ml.modeling.modelfiles.modelio import load_model_dir
    from imr_ml.reporting.report_data import rule_knowledge
    from imr_ml.scoring.score import request_row, score_rows

    out, shipped_label = own_knowledge_model
    loaded = load_model_dir(out)
    assert loaded.knowledge.guidelines.startswith(str(out.resolve() / "current" / "knowledge" / "guidelines-"))
    steps = list(knowledge_steps(loaded.model))  # the calibrated model's fitted pipeline and its template
    assert len(steps) == 2 and all(s.guidelines == loaded.knowledge.guidelines for s in steps)
    (result,) = score_rows(loaded, [request_row(*REQUEST)])
    labels = {c["feature"]: c["label"] for c in result["contributions"]}
    assert labels[f"rule__{RULE}"] == "guideline: LABEL AT TRAINING TIME"
    assert {r["rule"]: r["label"] for r in rule_knowledge(loaded)}[RULE] == "LABEL AT TRAINING TIME"
    assert result["hints"]  # the hints it was saved with
    (builtin,) = score_rows(load_model_dir("builtin"), [request_row(*REQUEST)])  # the shipped files
    shipped = {c["feature"]: c["label"] for c in builtin["contributions"]}
    assert shipped[f"rule__{RULE}"] == f"guideline: {shipped_label}"


def test_a_model_whose_knowledge_copy_was_edited_is_refused(own_knowledge_model, tmp_path):
    import shutil

    from typer.testing import CliRunner

    from imr_ml.cli import app
    from imr_ml.modeling.modelfiles.modelio import ModelLoadError, load_model_dir

    model = tmp_path / "model"
    shutil.copytree(own_knowledge_model[0], model, symlinks=True)
    copy = next((model / "knowledge").glob("guidelines-*.toml"))
    copy.write_text(copy.read_text().replace("LABEL AT TRAINING TIME", "EDITED IN THE MODEL"))
    with pytest.raises(ModelLoadError, match=r"guidelines-\w+\.toml does not match the sha256 in the manifest"):
        load_model_dir(model)
    res = CliRunner().invoke(app, ["score", str(model), "--item", REQUEST[1]], input=REQUEST[0])
    assert res.exit_code == 2 and res.output.startswith("error: ") and res.output.count("\n") == 1


def test_a_model_directory_without_its_knowledge_is_refused(own_knowledge_model, tmp_path):
    import shutil

    from imr_ml.modeling.modelfiles.manifest import seal
    from imr_ml.modeling.modelfiles.modelio import ModelLoadError, load_model_dir

    model = tmp_path / "model"
    shutil.copytree(own_knowledge_model[0], model, symlinks=True)
    manifest = json.loads((model / "manifest.json").read_text())
    del manifest["knowledge"]
    (model / "manifest.json").write_text(json.dumps(manifest))
    (model / "manifest.sha256").write_text(seal((model / "manifest.json").read_bytes()))  # as a forger would
    with pytest.raises(ModelLoadError, match="does not record the knowledge files it was trained with"):
        load_model_dir(model)


def test_a_model_trained_with_another_drug_vocabulary_is_refused(own_knowledge_model, tmp_path):
    import hashlib
    import shutil

    from imr_ml.modeling.modelfiles.manifest import seal
    from imr_ml.modeling.modelfiles.modelio import ModelLoadError, load_model_dir

    model = tmp_path / "model"
    shutil.copytree(own_knowledge_model[0], model, symlinks=True)
    manifest = json.loads((model / "manifest.json").read_text())
    assert {"drugs", "abbreviations"} <= set(manifest["knowledge"])  # kept with the model, hashed
    # the model's copy as it would be had drugs.toml been edited between training and now: its
    # files hashed and sealed as training writes them, so only the vocabulary check can refuse it
    rel = manifest["knowledge"]["drugs"]["file"]
    copy = model / "current" / rel
    copy.write_bytes(copy.read_bytes() + b"\n# an edit the installed file does not have\n")
    manifest["files"][rel] = hashlib.sha256(copy.read_bytes()).hexdigest()
    (model / "manifest.json").write_text(json.dumps(manifest))
    (model / "manifest.sha256").write_text(seal((model / "manifest.json").read_bytes()))
    with pytest.raises(ModelLoadError, match=r"trained with another drugs.toml than the installed one"):
        load_model_dir(model)


def test_the_builtin_model_reads_the_shipped_files():
    from imr_ml.modeling.modelfiles.modelio import load_model_dir

    assert load_model_dir("builtin").knowledge == SHIPPED


def test_a_fallback_takes_only_what_no_category_takes(tmp_path):
    """`[[fallback]]` word shapes are read after every category but "other": a listed term
    still wins, and an item neither knows stays "other" (abstained on)."""
    from imr_ml.knowledge.taxonomy import categorize

    path, _ = _written(tmp_path, "taxonomy.toml", "\n", "\n")
    assert categorize("Dry needling x6", path) == "acupuncture"
    assert categorize("MRI with needle localization", path) == "imaging_mri"
    assert categorize("Hot tub", path) == "other"
    no_fallback = tmp_path / "plain.toml"
    no_fallback.write_text(TAXONOMY.split("[[fallback]]")[0], encoding="utf-8")
    assert categorize("Dry needling x6", str(no_fallback)) == "other"


@pytest.mark.parametrize("item,category", [("Septoplasty", "surgery"), ("Left thumb CMC arthrodesis", "surgery"),
                                           ("Acupuncture 6 visits", "acupuncture")])
def test_the_shipped_fallbacks_read_a_service_by_its_word_shape(item, category):
    from imr_ml.knowledge.taxonomy import categorize

    assert categorize(item) == category
