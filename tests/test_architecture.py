"""The package's shape, checked: stages import downstream only, no module imports another's
private names or another library's private modules, ruff and mypy pass.

The stage order is the data flow (ARCHITECTURE.md): a package may import from its own stage
or an earlier one, never a later one, so no import cycle between stages can form; cycles
between modules are checked on the full module graph.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "imr_ml"
# Earlier stages first. Shared leaves (schema, dates, textio, pool) come before everything; "" is the
# package root, whose lazy `load_model` reaches the API.
# modeling is four rooms in order (the estimator, its evaluation, model files, training), so scoring, which
# may read model files and the estimator, never depends on training through them.
STAGES = ["schema", "dates", "textio", "pool", "text", "knowledge", "letters", "synth", "signals", "featurize",
          "precedents", "modeling.estimator", "modeling.evaluation", "modeling.modelfiles", "modeling.training",
          "modeling", "scoring", "reporting", "api", "demo", "web", "cli", "__main__", ""]
ROOMS = {"modeling"}  # stages whose subpackages are stages of their own


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[str, list[str], int]]:
    """(module imported, names imported from it, line) for every import in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = _module_name(path).split(".")
    if path.name != "__init__.py":
        here = here[:-1]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, [], node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(here[: len(here) - node.level + 1] + ([base] if base else []))
            out.append((base, [a.name for a in node.names], node.lineno))
    return out


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in mods.items():
        for target, names, _ in _imports(path):
            if not target.startswith("imr_ml"):
                continue
            for n in names or [""]:
                full = f"{target}.{n}" if n else target
                graph[name].add(full if full in mods else target)
    return graph


def _stage(module: str) -> str:
    parts = module.split(".")
    if len(parts) > 2 and parts[1] in ROOMS:
        return f"{parts[1]}.{parts[2]}"
    return parts[1] if len(parts) > 1 else ""


def test_stages_import_only_earlier_stages():
    wrong = []
    for name, targets in _graph().items():
        if _stage(name) not in STAGES:
            wrong.append(f"{name}: not in a known stage; add it to STAGES and ARCHITECTURE.md")
            continue
        for t in targets:
            if _stage(t) in STAGES and STAGES.index(_stage(t)) > STAGES.index(_stage(name)):
                wrong.append(f"{name} imports the later stage {t}")
    assert not wrong, "\n".join(sorted(wrong))


# Later stages that must not lean on an earlier one all the same: scoring runs a saved model, so it
# reads model files and the estimator, never the training procedure.
NOT_IMPORTED = {"scoring": ("modeling.training",), "web": ("modeling.training",)}


def test_scoring_does_not_depend_on_training():
    wrong = [f"{name} imports {t}" for name, targets in _graph().items() for t in targets
             if _stage(t) in NOT_IMPORTED.get(_stage(name), ())]
    assert not wrong, "\n".join(sorted(wrong))


def test_no_import_cycle_between_modules():
    graph = _graph()
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if nxt == node or nxt not in _MODULES:
                continue
            if state.get(nxt) == 1:
                cycles.append(" -> ".join(path[path.index(nxt):] + [nxt]) if nxt in path else f"{node} -> {nxt}")
            elif not state.get(nxt):
                visit(nxt, path + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if not state.get(node):
            visit(node, [node])
    assert not cycles, "\n".join(cycles)


_MODULES = set(_modules())


def test_no_private_names_of_other_modules_or_libraries():
    """`from x import _private` from another module, and private modules of other libraries
    (`re._parser`, `sklearn.utils._...`) or of another stage, are refused: they break without
    notice. A stage's own private modules (`layouts._common`) are its business."""
    wrong = []
    for name, path in _modules().items():
        for target, names, line in _imports(path):
            if any(part.startswith("_") and not part.startswith("__") for part in target.split(".")):
                if not (target.startswith("imr_ml") and _stage(target) == _stage(name)):
                    wrong.append(f"{path.relative_to(ROOT)}:{line} imports the private module {target}")
            for n in names:
                if n.startswith("_") and not n.startswith("__") and target != name:
                    wrong.append(f"{path.relative_to(ROOT)}:{line} imports the private name {target}.{n}")
    assert not wrong, "\n".join(wrong)


# documented public functions whose names start with an underscore
PUBLIC_UNDERSCORED = {"os._exit"}


def test_no_private_attributes_of_other_objects():
    """`obj._private` on anything but `self`/`cls` reaches into another class's internals
    (`TfidfVectorizer._tfidf`, `Random._randbelow`)."""
    wrong = []
    for path in _modules().values():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
                if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                    continue
                if ast.unparse(node) not in PUBLIC_UNDERSCORED:
                    wrong.append(f"{path.relative_to(ROOT)}:{node.lineno} {ast.unparse(node)[:60]}")
    assert not wrong, "\n".join(wrong)


TESTS = ROOT / "tests"
# Private names the tests still reach, each with why; the test fails when one goes, so the list shrinks.
TESTS_STILL_PRIVATE: dict[str, str] = {}  # "file imports name": why, while a seam is being made public


def _private(name: str) -> bool:
    return any(p.startswith("_") and not p.startswith("__") for p in name.split("."))


def _private_uses_in_tests() -> set[str]:
    """Every private imr-ml name a test imports or patches (`monkeypatch.setattr(x, "_f", ...)`,
    `setattr("imr_ml.m._f", ...)`), and every `obj._private` it reads on anything but
    `self`/`cls`: tests that reach into internals break on every restructure and test
    what a user cannot meet. Fault injection goes through public seams (a reader passed
    in, an environment switch, a file the code really meets)."""
    found = set()
    for path in sorted(TESTS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("imr_ml"):
                found |= {f"{path.name} imports {node.module}.{a.name}" for a in node.names
                          if _private(f"{node.module}.{a.name}")}
            elif isinstance(node, ast.Import):
                found |= {f"{path.name} imports {a.name}" for a in node.names
                          if a.name.startswith("imr_ml") and _private(a.name)}
            elif isinstance(node, ast.Attribute) and _private(node.attr):
                if not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")) \
                        and ast.unparse(node) not in PUBLIC_UNDERSCORED:
                    found.add(f"{path.name}:{node.lineno} reads {ast.unparse(node)[:60]}")
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr in ("setattr", "delattr"):
                found |= {f"{path.name}:{node.lineno} patches {a.value}" for a in node.args[:2]
                          if isinstance(a, ast.Constant) and isinstance(a.value, str) and _private(a.value)}
    return found


def test_tests_use_only_public_names():
    found = _private_uses_in_tests()
    new = sorted(found - set(TESTS_STILL_PRIVATE))
    gone = sorted(set(TESTS_STILL_PRIVATE) - found)
    assert not new, "tests reach private names (use a public seam):\n" + "\n".join(new)
    assert not gone, "no longer reached; remove from TESTS_STILL_PRIVATE:\n" + "\n".join(gone)


# imr-ml functions and classes the tests still replace, each with why; the test fails when one goes.
TESTS_STILL_PATCHING: dict[str, str] = {}


def _imr_ml_names(tree: ast.AST) -> dict[str, str]:
    """Names a test file binds to imr-ml modules or their members (`import imr_ml.x as T`,
    `from imr_ml.x import y`), with what they stand for."""
    bound = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            bound |= {(a.asname or a.name.split(".")[0]): (a.name if a.asname else "imr_ml") for a in node.names
                      if a.name.startswith("imr_ml")}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("imr_ml"):
            bound |= {(a.asname or a.name): f"{node.module}.{a.name}" for a in node.names}
    return bound


def _patches_in_tests() -> set[str]:
    """Every function or class of imr-ml a test replaces (`monkeypatch.setattr(module, "f", ...)`):
    such a test checks a program no user runs. Settings (UPPER_CASE constants such as a time
    budget) may be lowered."""
    found = set()
    for path in sorted(TESTS.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        bound = _imr_ml_names(tree)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "setattr" and len(node.args) == 3):
                continue
            target, name = node.args[0], node.args[1]
            if not (isinstance(name, ast.Constant) and isinstance(name.value, str)) or name.value.isupper():
                continue
            root = target
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in bound:
                where = ast.unparse(target).replace(root.id, bound[root.id], 1)
                found.add(f"{path.name} patches {where}.{name.value}")
    return found


def test_tests_replace_no_imr_ml_function():
    found = _patches_in_tests()
    new = sorted(found - set(TESTS_STILL_PATCHING))
    gone = sorted(set(TESTS_STILL_PATCHING) - found)
    assert not new, "tests replace imr-ml code (use a public seam):\n" + "\n".join(new)
    assert not gone, "no longer patched; remove from TESTS_STILL_PATCHING:\n" + "\n".join(gone)


MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60


def test_modules_and_functions_stay_short():
    """No module over 500 lines; no function body over 60 unless its `def` line states why
    (`# long: <reason>`)."""
    wrong = []
    for path in _modules().values():
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        if len(lines) > MAX_MODULE_LINES:
            wrong.append(f"{path.relative_to(ROOT)}: {len(lines)} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.body[0].lineno + 1  # the body: typer signatures are declarations
                if length > MAX_FUNCTION_LINES and "# long:" not in lines[node.lineno - 1]:
                    wrong.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}: {length} lines")
    assert not wrong, "\n".join(wrong)


# numpydoc's own validator; the checks: a docstring, every parameter documented and no unknown
# one, a Returns section when something is returned. An override without a docstring of its own
# is read by the base method's (what `help()` shows), checked against the override's signature.
# The short form: a function whose signature says what the sections would may have a summary alone,
# with neither a Parameters nor a Returns section: at most SHORT_FORM_MAX_PARAMETERS parameters
# (besides self/cls), none variadic, each annotated and named in backticks in numpydoc's Summary
# (the first paragraph: "The threshold recorded in `loaded`'s manifest"), and the return annotated.
# A docstring with either section has both complete, as numpydoc checks them.
# A variant that passes parameters on may describe them as numpy's methods do ("x, y\n    As in
# `other`."): `other` (a name of the same module, or a dotted path) must document each of them.
NUMPYDOC_PACKAGES = ("text", "signals", "modeling", "scoring")
NUMPYDOC_CHECKS = {"GL08", "PR01", "PR02", "RT01"}
SHORT_FORM_MAX_PARAMETERS = 2


def _public_objects():
    import importlib
    import inspect

    for name in sorted(_MODULES):
        if _stage(name).split(".")[0] not in NUMPYDOC_PACKAGES or name.rsplit(".", 1)[-1].startswith("_"):
            continue
        module = importlib.import_module(name)
        for attr, obj in vars(module).items():
            if attr.startswith("_") or getattr(obj, "__module__", None) != name:
                continue
            if inspect.isfunction(obj):
                yield f"{name}.{attr}", obj
            elif inspect.isclass(obj):
                yield f"{name}.{attr}", obj
                for meth, member in vars(obj).items():
                    if inspect.isfunction(member) and not meth.startswith("_"):
                        yield f"{name}.{attr}.{meth}", member


def _numpydoc_errors(qualname: str, obj) -> list[str]:
    """numpydoc's errors (those in NUMPYDOC_CHECKS) for `obj`, its docstring its own or the one
    it inherits (`inspect.getdoc` walks the class's bases)."""
    import inspect

    from numpydoc.docscrape import get_doc_object
    from numpydoc.validate import Validator, validate

    class Inherited(Validator):
        def __init__(self, obj_name: str, obj) -> None:
            doc = inspect.getdoc(obj) or ""
            super().__init__(get_doc_object(obj, doc=doc))
            self.raw_doc = doc

    found = validate(qualname, validator_cls=Inherited, obj=obj)["errors"]
    waived = {"PR01", "RT01"} if _short_form(obj, get_doc_object(obj, doc=inspect.getdoc(obj) or "")) else set()
    return [f"{qualname}: {code} {msg}" for code, msg in found if code in NUMPYDOC_CHECKS - waived]


def _short_form(obj, doc) -> bool:
    """Whether `obj`'s docstring is the short form (see SHORT_FORM_MAX_PARAMETERS) and may be:
    no Parameters or Returns section, few parameters, each annotated and named in the summary,
    the return annotated."""
    import inspect

    if not inspect.isfunction(obj) or doc["Parameters"] or doc["Returns"]:
        return False
    params = list(inspect.signature(obj).parameters.values())
    if params and params[0].name in ("self", "cls"):
        params = params[1:]
    summary = " ".join(doc["Summary"])
    return (len(params) <= SHORT_FORM_MAX_PARAMETERS
            and inspect.signature(obj).return_annotation is not inspect.Signature.empty
            and all(p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.annotation is not p.empty
                    and f"`{p.name}`" in summary for p in params))


def test_public_functions_have_numpydoc_docstrings():
    wrong = [e for qualname, obj in _public_objects() for e in _numpydoc_errors(qualname, obj)]
    assert not wrong, f"{len(wrong)} problems\n" + "\n".join(wrong)


def _documented(obj) -> set[str]:
    import inspect

    from numpydoc.docscrape import get_doc_object

    doc = get_doc_object(obj, doc=inspect.getdoc(obj) or "")
    if _short_form(obj, doc):
        return set(inspect.signature(obj).parameters)
    return {name.strip() for names, _, _ in doc["Parameters"] for name in names.split(",")}


def _unresolved_references(qualname: str, obj) -> list[str]:
    """Parameters described as "As in `f`" that no such `f` documents."""
    import importlib
    import inspect
    import re

    from numpydoc.docscrape import get_doc_object

    if not inspect.isfunction(obj):
        return []
    wrong = []
    for names, _, desc in get_doc_object(obj, doc=inspect.getdoc(obj) or "")["Parameters"]:
        text = " ".join(desc)
        if not text.startswith("As in `"):
            continue
        documented: set[str] = set()
        for ref in re.findall(r"`([\w.]+)`", text.split(",")[0]):
            first, *rest = ref.split(".")
            target = obj.__globals__.get(first)  # a name of the module, or a class's method
            if target is None and rest:
                module, _, attr = ref.rpartition(".")
                target, rest = getattr(importlib.import_module(module), attr, None), []
            for attr in rest:
                target = getattr(target, attr, None)
            documented |= _documented(target) if target is not None else set()
        missing = [n.strip() for n in names.split(",") if n.strip() not in documented]
        if missing:
            wrong.append(f"{qualname}: {', '.join(missing)} described as {text!r}, which does not document them")
    return wrong


def test_parameters_described_by_reference_lead_to_their_description():
    wrong = [e for qualname, obj in _public_objects() for e in _unresolved_references(qualname, obj)]
    assert not wrong, "\n".join(wrong)


def passes_on(rows: list, limit: int) -> int:
    """`short` of `rows` and `limit`.

    Parameters
    ----------
    rows, limit
        As in `short`.

    Returns
    -------
    int
        Its result.
    """
    return short(rows, limit)


def passes_on_more(rows: list, floor: int) -> int:
    """`short` of `rows`, at least `floor`.

    Parameters
    ----------
    rows, floor
        As in `short_half`.

    Returns
    -------
    int
        Its result, at least `floor`.
    """
    return max(floor, short(rows, len(rows)))


def test_a_reference_must_name_a_function_documenting_the_parameters():
    assert _unresolved_references("passes_on", passes_on) == []  # `short` is the short form: no section
    assert _unresolved_references("passes_on_more", passes_on_more)[0].startswith("passes_on_more: floor described")


class DocumentedBase:
    """A base class whose method is documented once."""

    def score(self, rows: list) -> int:
        """How many rows.

        Parameters
        ----------
        rows : list
            The rows.

        Returns
        -------
        int
            Their number.
        """
        return len(rows)


class SameSignature(DocumentedBase):
    """Overrides `score` with the same parameters and no docstring of its own."""

    def score(self, rows: list) -> int:
        return 2 * len(rows)


class OtherSignature(DocumentedBase):
    """Overrides `score` with another parameter and no docstring of its own."""

    def score(self, items: list) -> int:  # type: ignore[override]
        return 0


def test_an_override_inherits_its_base_methods_docstring_only_when_it_still_fits():
    assert _numpydoc_errors("SameSignature.score", SameSignature.score) == []
    codes = {e.split()[1] for e in _numpydoc_errors("OtherSignature.score", OtherSignature.score)}
    assert codes == {"PR01", "PR02"}  # `items` undocumented, `rows` documented but absent


def short(rows: list, limit: int) -> int:
    """How many of `rows`, at most `limit`."""
    return min(len(rows), limit)


def short_unnamed(rows: list) -> int:
    """How many rows."""
    return len(rows)


def short_unannotated(rows) -> int:
    """How many `rows`."""
    return len(rows)


def short_three(rows: list, limit: int, floor: int) -> int:
    """How many of `rows`, between `floor` and `limit`."""
    return max(floor, min(len(rows), limit))


def short_half(rows: list) -> int:
    """How many `rows`.

    Parameters
    ----------
    rows : list
        The rows.
    """
    return len(rows)


@pytest.mark.parametrize("func, codes", [
    (short, set()),
    (short_unnamed, {"PR01", "RT01"}),       # the summary does not name `rows`
    (short_unannotated, {"PR01", "RT01"}),   # the signature does not say what `rows` is
    (short_three, {"PR01", "RT01"}),         # three parameters want their section
    (short_half, {"RT01"}),                  # a section written is a section complete
])
def test_the_short_form_only_where_the_signature_says_the_rest(func, codes):
    assert {e.split()[1] for e in _numpydoc_errors(func.__name__, func)} == codes


@pytest.mark.parametrize("tool", ["ruff", "mypy"])
def test_linters_pass(tool):
    exe = shutil.which(tool, path=str(Path(sys.executable).parent)) or shutil.which(tool)
    if exe is None:
        pytest.fail(f"{tool} is not installed: pip install -e '.[test]'")
    argv = [exe, "check", "imr_ml", "tests"] if tool == "ruff" else [exe]
    res = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
