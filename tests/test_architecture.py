"""The package's layering: imports run one way (no cycle anywhere in src/vidlint, counting the
imports inside functions), and loading is lazy (a TMP-only check never imports a model)."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
REPO = SRC.parent


def module_names() -> dict[str, Path]:
    names = {}
    for path in (SRC / "vidlint").rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def import_graph() -> dict[str, set[str]]:
    """Module -> the vidlint modules it imports, at module level or inside a function; imports
    under ``if TYPE_CHECKING:`` are for the type checker only and do not count."""
    modules = module_names()

    def resolve(name: str) -> str:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name

    graph: dict[str, set[str]] = defaultdict(set)
    for module, path in modules.items():
        tree = ast.parse(path.read_text())
        typing_only = {
            id(node)
            for block in ast.walk(tree)
            if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
            for node in ast.walk(block)
        }
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package
                    for _ in range(node.level - 1):
                        anchor = anchor.rpartition(".")[0]
                    base = f"{anchor}.{base}" if base else anchor
                # a name that is a submodule depends on that module; any other on ``base``
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                    for alias in node.names
                ]
            else:
                continue
            for target in targets:
                if target.startswith("vidlint"):
                    found = resolve(target)
                    if found and found != module:
                        graph[module].add(found)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_in_the_package():
    graph = import_graph()
    assert graph["vidlint.pipeline"], "the graph found no imports: the test is broken"
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_a_tmp_only_check_imports_no_model(tmp_path):
    """``vidlint check --select TMP`` loads neither mediapipe, dlib nor torch (nor jax, which
    mediapipe pulls in): the registry imports only what the selected rules need."""
    script = (
        "import sys, runpy\n"
        f"sys.argv = ['vidlint', 'check', {str(REPO / 'sample_clips' / 'scene_jump.mp4')!r},"
        f" '--select', 'TMP', '--out', {str(tmp_path)!r}]\n"
        "try:\n    runpy.run_module('vidlint', run_name='__main__')\n"
        "except SystemExit as exit:\n    code = exit.code\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & "
        "{'mediapipe', 'dlib', 'torch', 'jax', 'tensorflow'})\n"
        "print('exit', code, 'heavy', heavy)\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert run.stdout.strip().splitlines()[-1] == "exit 1 heavy []", run.stdout + run.stderr
    assert (tmp_path / "scene_jump.vidlint.json").is_file()
