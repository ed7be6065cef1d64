"""The package's shape: imports point down the layers (the import-linter contract in
pyproject.toml), no module imports itself back through others, and spinscope's own modules
are imported at the top of a module, never inside a function."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "spinscope"


def test_imports_follow_the_layer_contract():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--config", str(ROOT / "pyproject.toml"), "--no-cache"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The groups of modules that import each other, directly or through others (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in graph.find_modules_directly_imported_by(module):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_import_cycles():
    graph = grimp.build_graph("spinscope")
    # A package's __init__ re-exports its children: that is not a cycle of the code.
    for module in list(graph.modules):
        for child in graph.find_children(module):
            if graph.direct_import_exists(importer=module, imported=child):
                graph.remove_import(importer=module, imported=child)
    assert _cycles(graph) == []


def test_own_modules_are_imported_at_the_top():
    """Function-local imports hide dependencies (and cycles). Two kinds are allowed: the
    package's lazy ``spinscope.Analyzer`` attribute, and the CLI commands that alone use a
    heavy part (web app, corpus mode, training), each saying so in a comment."""
    late = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                own = (
                    isinstance(node, ast.ImportFrom)
                    and (node.level or (node.module or "").startswith("spinscope"))
                    or isinstance(node, ast.Import)
                    and any(a.name.startswith("spinscope") for a in node.names)
                )
                if own:
                    late.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    cli = PACKAGE / "shells" / "cli.py"
    lines = cli.read_text(encoding="utf-8").splitlines()
    commands = [entry for entry in late if entry.startswith("shells/cli.py:")]
    assert commands and all("#" in lines[int(entry.split(":")[1]) - 1] for entry in commands)  # a reason each
    assert [entry.split(":")[0] for entry in late if entry not in commands] == ["__init__.py"]  # spinscope.Analyzer


#: The longest function allowed in src/ (its body and docstring, decorators excluded).
MAX_FUNCTION_LINES = 60


def test_no_function_is_longer_than_sixty_lines():
    long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name} ({length} lines)")
    assert long == []


def test_tasks_are_named_only_in_the_registry():
    """No ``task == "genre"`` branch: what differs between tasks is data of the registry."""
    branches = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "tasks.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Compare) and any(
                isinstance(op, (ast.Eq, ast.NotEq, ast.In, ast.NotIn)) for op in node.ops
            ):
                names = [
                    n
                    for n in (node.left, *node.comparators)
                    if isinstance(n, (ast.Name, ast.Attribute)) and "task" in ast.unparse(n).lower()
                ]
                literals = [
                    n
                    for n in (node.left, *node.comparators)
                    if isinstance(n, ast.Constant) and isinstance(n.value, str)
                ]
                if names and literals:
                    branches.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {ast.unparse(node)}")
    assert branches == []
