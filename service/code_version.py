"""The version of the code that computes results: part of every stored run's key and what a Dask
worker must share with its server.

Only what can change a stored table counts: the network and data (``core``), the trials, the
modules that train, parse, search and assemble (``COMPUTING``), and in each study module the
definitions its ``plan``, ``assemble`` and waves reach. Charts, takeaways, reports and pages do
not: a new colour or a reworded caption leaves every stored run valid. Each file counts as its
syntax tree without docstrings, so comments and layout do not count either.
"""
from __future__ import annotations

import ast
import functools
import hashlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMPUTING = ("studies/common/training.py", "studies/common/schema.py", "studies/common/params.py",
             "studies/common/searching.py", "studies/common/execution.py", "studies/common/config.py",
             "studies/common/memory.py")  # memory: which trials train as one stack, which sets their rounding
STUDY_ROOTS = {"NAME", "SCHEMA", "SWEPT", "LABEL_KEYS", "TRIAL", "plan", "assemble", "next_wave", "bounding_plan"}


def _without_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and body and \
                isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) and \
                isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]
    return tree


def _defined(node: ast.stmt) -> set[str]:
    """The module-level names a statement defines."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
        node, (ast.AnnAssign, ast.AugAssign)) else []
    return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}


def computing_part(tree: ast.Module) -> list[ast.stmt]:
    """A study module's statements that its results depend on: the definitions reachable from
    ``STUDY_ROOTS`` through the names they use (imports are hashed as their own modules)."""
    statements = [s for s in tree.body if _defined(s)]
    wanted, seen = set(STUDY_ROOTS), set()
    while wanted - seen:
        seen |= wanted
        for statement in statements:
            if _defined(statement) & wanted:
                wanted |= {n.id for n in ast.walk(statement) if isinstance(n, ast.Name)}
    return [s for s in statements if _defined(s) & seen]


def files(root: Path) -> list[Path]:
    return sorted([*root.glob("core/*.py"), *root.glob("studies/trials/*.py"), *(root / name for name in COMPUTING),
                   *root.glob("studies/*.py")])


@functools.lru_cache(maxsize=4)
def code_version(root: Path = ROOT) -> str:
    digest = hashlib.sha256()
    for path in files(root):
        tree = _without_docstrings(ast.parse(path.read_text(encoding="utf-8")))
        if path.parent == root / "studies":
            tree = ast.Module(body=computing_part(tree), type_ignores=[])
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(ast.dump(tree).encode())
    return digest.hexdigest()[:16]
