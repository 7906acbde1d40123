"""The package's import graph (read with ``ast``, nothing imported): no cycles, arrows point down only.

Every ``import`` statement counts, also those inside functions (a lazy import still ties the modules) and
under ``TYPE_CHECKING``.  Layers (docs: ARCHITECTURE.md): the shared core must not import a thought folder
or the CLI; a thought folder must not import another thought or the CLI.  ``registry`` names the study
modules and so may import thoughts.
"""

import ast
from collections.abc import Iterator
from pathlib import Path

import thoughtlab

ROOT = Path(thoughtlab.__file__).parent
CORE = {"study", "runs", "runner", "report", "train", "nets", "data", "metrics", "stats", "errors", "fileio", "probe",
        "ledger", "validate"}
THOUGHTS = {"collapse", "attention", "cyclegan", "csp", "generative"}
EXEMPT = {"registry"}  # names the study modules: it imports every thought by design
CLI = "cli"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def imported(name: str) -> Iterator[str]:
    """The package's modules that module ``name`` imports (``from pkg import sub`` -> ``pkg.sub``)."""
    tree = ast.parse(MODULES[name].read_text(), str(MODULES[name]))
    package = name if is_package(name) else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:  # "thoughtlab.x.y.Name" -> the module that holds it
                target = target.rpartition(".")[0]
            if target and target != name:
                yield target


GRAPH = {name: set(imported(name)) for name in MODULES}


def area(name: str) -> str:
    """``csp`` for thoughtlab.csp.*, ``cli`` for thoughtlab.cli, ``""`` for the package itself."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else ""


def cycles() -> list[frozenset[str]]:
    """Strongly connected components with more than one module (Tarjan's algorithm, iterative)."""
    index, low, on_stack, stack, found, counter = {}, {}, set(), [], [], [0]
    for root in GRAPH:
        if root in index:
            continue
        work = [(root, iter(sorted(GRAPH[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(GRAPH[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(frozenset(component))
    return found


def test_the_walker_sees_the_package():
    assert "thoughtlab.train.core" in MODULES and "thoughtlab.csp.training" in MODULES
    assert "thoughtlab.train.core" in GRAPH["thoughtlab.csp.training"]
    assert "thoughtlab.csp.evaluate" in GRAPH["thoughtlab.csp.inference"]  # from thoughtlab.csp import evaluate


def test_no_import_cycles():
    found = [sorted(c) for c in cycles()]
    assert not found, f"import cycles: {found}"


def test_the_core_imports_no_thought_and_not_the_cli():
    bad = [(name, target) for name, targets in GRAPH.items() if area(name) in CORE | {""}
           for target in sorted(targets) if area(target) in THOUGHTS | {CLI}]
    assert not bad, f"core -> thought/CLI imports: {bad}"


def test_a_thought_imports_no_other_thought_and_not_the_cli():
    bad = [(name, target) for name, targets in GRAPH.items() if area(name) in THOUGHTS
           for target in sorted(targets) if area(target) in (THOUGHTS - {area(name)}) | {CLI}]
    assert not bad, f"thought -> other thought/CLI imports: {bad}"


def test_every_module_is_in_a_layer():
    assert {area(name) for name in MODULES} <= CORE | THOUGHTS | EXEMPT | {CLI, ""}
