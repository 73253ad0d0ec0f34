"""Issue 30: the import graph, read from the source (imports inside functions included, so a circle
cannot hide in one): no circles, and the layers only import downwards: app_pages → ui → studies →
service → core; nothing below ui imports Streamlit."""
import ast
from pathlib import Path

from ui.local_server import ROOT

PACKAGES = ("core", "service", "studies", "ui", "app_pages")
LAYERS = {"core": 0, "service": 1, "studies": 2, "ui": 3, "app_pages": 4}


def modules(root: Path) -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (root / package).rglob("*.py"):
            name = ".".join(path.relative_to(root).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def imports(path: Path) -> set[str]:
    """Every module name ``path`` imports, at any depth of its code (``from a import b`` names a and a.b)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return names


def graph(root: Path) -> dict[str, set[str]]:
    found = modules(root)
    return {name: {other for other in imports(path) if other in found and other != name} for name, path in found.items()}


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected parts of more than one module (Tarjan's algorithm, iterative)."""
    index, low, on, stack, found, counter = {}, {}, set(), [], [], 0
    for start in edges:
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                part = []
                while True:
                    member = stack.pop()
                    on.discard(member)
                    part.append(member)
                    if member == node:
                        break
                if len(part) > 1:
                    found.append(sorted(part))
    return found


def test_this_checkout_has_no_import_circle():
    assert circles(graph(ROOT)) == []


def test_a_planted_circle_is_found(tmp_path):
    for package in PACKAGES:
        (tmp_path / package).mkdir()
    (tmp_path / "service" / "a.py").write_text("def f():\n    from service.b import g\n")  # hidden in a function
    (tmp_path / "service" / "b.py").write_text("from service import a\n")
    (tmp_path / "core" / "c.py").write_text("import numpy\n")
    assert circles(graph(tmp_path)) == [["service.a", "service.b"]]


def test_every_layer_imports_only_the_layers_below_it_and_only_ui_and_pages_import_streamlit():
    found = modules(ROOT)
    for name, path in found.items():
        layer = LAYERS[name.split(".")[0]]
        for other in imports(path):
            top = other.split(".")[0]
            if top in LAYERS:
                assert LAYERS[top] <= layer, (name, other)
            if top == "streamlit":
                assert layer >= LAYERS["ui"], name
