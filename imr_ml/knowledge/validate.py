"""Reading a knowledge file: parsed by tomllib, checked against its schema, refused with
`file:line` and a suggestion.

Every loader of `features/` reads through `read_knowledge`, so a file is checked whenever it
is loaded (the loaders keep what they build, so once per file and process; a file whose text
was checked before is not checked again). Problems found later by code that knows more (the
signals a rule may name: `imr_ml.signals.check`) are refused the same way with `refuse`.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from imr_ml.knowledge.errors import KnowledgeError, did_you_mean
from imr_ml.knowledge.locate import Loc, locate
from imr_ml.knowledge.schema import SCHEMAS, Problem

_CHECKED: set[tuple[str, int]] = set()  # (kind, hash of the text) of files that passed


def source_name(name: str, path: str | Path | None) -> str:
    """How errors name a knowledge file: the user's path, or `features/<name>` when shipped.

    Parameters
    ----------
    name : str
        The kind of file (`guidelines.toml`).
    path : str, Path or None
        The user's copy, or None for the shipped file.
    """
    return str(path) if path is not None else f"features/{name}"


def knowledge_bytes(name: str, path: str | Path | None = None) -> bytes:
    """The bytes of the shipped `features/<name>`, or of the user's `path`."""
    if path is not None:
        return Path(path).read_bytes()
    return resources.files("imr_ml.domain").joinpath(name).read_bytes()


def read_knowledge(name: str, path: str | Path | None = None) -> dict:
    """A knowledge file, parsed and checked against the schema of its kind.

    Parameters
    ----------
    name : str
        The kind of file, as shipped (`signals.toml`, `guidelines.toml` ...).
    path : str, Path or None
        The user's copy (None: the shipped one).

    Returns
    -------
    dict
        The parsed TOML.

    Raises
    ------
    KnowledgeError
        When the file is not TOML or breaks its schema (`file:line: ...`).
    """
    if name not in SCHEMAS:
        raise KeyError(f"no schema declared for {name}: add one to SCHEMAS in imr_ml/knowledge/schema.py")
    source = source_name(name, path)
    try:
        text = knowledge_bytes(name, path).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise KnowledgeError([f"{source}: not UTF-8 text ({exc.reason} at byte {exc.start})"]) from None
    data = parse_toml(text, source)
    key = (name, hash(text))
    if key not in _CHECKED:
        check(name, data, text, source)
        _CHECKED.add(key)
    return data


def parse_toml(text: str, source: str) -> dict:
    """tomllib's parse, its error placed as `file:line`."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        what = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc)) or "invalid TOML"
        line = f":{m.group(1)}" if m else ""
        raise KnowledgeError([f"{source}{line}: not valid TOML: {what}"]) from None


@contextmanager
def compiling(name: str, path: str | Path | None) -> Iterator[None]:
    """Compile the patterns of a knowledge file of the kind `name` (the user's copy at `path`, or None
    for the shipped file) inside: a pattern that does not compile is refused with its `file:line`
    (each pattern is tried alone only then, so a good file costs nothing).
    """
    try:
        yield
    except re.error:
        text = knowledge_bytes(name, path).decode("utf-8")
        check(name, tomllib.loads(text), text, source_name(name, path), compile_patterns=True)
        raise  # no single pattern is at fault: the loader's own combination of them is


def check(name: str, data: dict, text: str, source: str, compile_patterns: bool = False) -> None:
    """Refuse `data` unless it fits the schema of `name` and its own references hold.

    Parameters
    ----------
    name : str
        The kind of file.
    data : dict
        The parsed file.
    text : str
        Its text (for line numbers).
    source : str
        How errors name it.
    compile_patterns : bool
        Also compile every regular expression.
    """
    schema = SCHEMAS[name]
    problems: list[Problem] = []
    try:
        schema.model.model_validate(data, context={"compile": compile_patterns})
    except ValidationError as exc:
        problems += [_problem(schema.model, data, err) for err in exc.errors()]
    if schema.checks is not None and not problems:
        problems += list(schema.checks(data))
    if problems:
        raise refusal(problems, data, text, source)


def refuse(name: str, path: str | Path | None, problems: Iterable[Problem]) -> None:
    """Raise the `KnowledgeError` of problems found in a loaded file, if there are any.

    Parameters
    ----------
    name : str
        The kind of file.
    path : str, Path or None
        The user's copy, or None for the shipped file.
    problems : iterable of (loc, message)
        Where in the parsed file, and what is wrong there.
    """
    problems = list(problems)
    if problems:
        text = knowledge_bytes(name, path).decode("utf-8")
        raise refusal(problems, tomllib.loads(text), text, source_name(name, path))


def refusal(problems: list[Problem], data: dict, text: str, source: str) -> KnowledgeError:
    """The error of `problems`, each as `file:line: where: what`, in file order."""
    # a key that is missing is most often one written wrong: the unknown key comes first
    placed = sorted((msg.startswith("lacks "), locate(text, loc, _value(data, loc)), _entry(data, loc)[0], msg)
                    for loc, msg in problems)
    return KnowledgeError([f"{source}:{line}: {where}{msg}" for _, line, where, msg in dict.fromkeys(placed)])


def _value(data: Any, loc: Loc) -> Any:
    """The value at `loc` in the parsed file, or None where the problem is that it is missing."""
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _entry(data: dict, loc: Loc) -> tuple[str, int]:
    """The entry a problem is in, as a reader finds it ("rule 'x': ", "[cues.negation] ",
    "signal #4: " for an entry without a name), and how many parts of `loc` name it."""
    if len(loc) < 2 or loc[0] not in data:  # a top-level key: the message names it
        return "", 0
    top = data.get(loc[0]) if isinstance(loc[0], str) else None
    if isinstance(top, list) and len(loc) > 1 and isinstance(loc[1], int) and isinstance(_value(top, loc[1:2]), dict):
        entry = top[loc[1]]
        name = entry.get("name") or entry.get("ingredient") or entry.get("service") or (entry.get("names") or [None])[0]
        return (f"{loc[0]} {name!r}: " if isinstance(name, str) else f"{loc[0]} #{loc[1] + 1}: "), 2
    if isinstance(top, dict) and len(loc) > 1 and isinstance(top.get(loc[1]), dict):
        return f"[{loc[0]}.{loc[1]}] ", 2
    return (f"[{loc[0]}] " if isinstance(top, dict) else f"{loc[0]}: "), 1


def key_path(loc: Loc) -> str:
    """`when.red_flag`, `patterns[2]`: a path inside an entry, as a reader writes it.

    Parameters
    ----------
    loc : tuple of str and int
        Keys and positions.
    """
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _problem(model: type[BaseModel], data: dict, err: Any) -> Problem:
    """A pydantic error as (loc, message), with a suggestion for a misspelt key or word."""
    loc: Loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    inner = loc[_entry(data, loc)[1]:]
    kind, msg, got = err["type"], err["msg"], err.get("input")
    if kind == "extra_forbidden":
        known = _fields_at(model, loc[:-1])
        place = f" in {key_path(inner[:-1])}" if inner[:-1] else ""
        return loc, f"unknown key {loc[-1]!r}{place}{did_you_mean(str(loc[-1]), known)}"
    if kind == "missing":
        return loc, f"lacks {key_path(inner) or loc[-1]!r}"
    head = f"{key_path(inner)}: " if inner else ""
    if kind == "value_error":
        return loc, head + msg.removeprefix("Value error, ")
    if kind == "literal_error":
        expected = re.findall(r"'([^']*)'", str((err.get("ctx") or {}).get("expected", "")))
        return loc, f"{head}{got!r} is not allowed{did_you_mean(str(got), expected)}"
    shown = json.dumps(got, default=str)
    return loc, f"{head}{msg[:1].lower()}{msg[1:]} (got {shown[:60]}{'…' if len(shown) > 60 else ''})"


def _fields_at(model: type[BaseModel], loc: Loc) -> list[str]:
    """The keys the table at `loc` declares (for a suggestion)."""
    tp: Any = model
    for part in (*loc, None):
        while get_origin(tp) is not None and get_origin(tp) not in (list, dict):  # Annotated, unions
            tp = next((a for a in get_args(tp) if a is not type(None)), None)
        if part is None:
            break
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = next((f for n, f in tp.model_fields.items() if (f.alias or n) == part), None)
            tp = field.annotation if field is not None else None
        elif get_origin(tp) in (list, dict):
            tp = get_args(tp)[-1]
        else:
            return []
    if not (isinstance(tp, type) and issubclass(tp, BaseModel)):
        return []
    return [f.alias or name for name, f in tp.model_fields.items()]
