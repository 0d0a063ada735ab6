"""The layering contracts of pyproject.toml ([tool.importlinter]), checked without
import-linter: science and core modules import nothing of the store, the data
services, the CLI or the web; the web never imports the CLI; the CLI imports the web
only by the listed imports of its commands of the web.

The import graph is read from the source (every ``import``, inside functions too, as
import-linter's grimp does); a contract is broken by any chain of imports, direct or
through other modules, from a source module to a forbidden one.
"""

from __future__ import annotations

import ast
import tomllib
from collections import defaultdict, deque
from collections.abc import Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "dualcontrol"


def module_names() -> dict[Path, str]:
    """Return the dotted name of every module of the package."""
    names = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[path] = ".".join(parts)
    return names


def import_graph() -> dict[str, set[str]]:
    """Return module -> modules of the package it imports (anywhere in its code)."""
    names = module_names()
    known = set(names.values())
    graph: dict[str, set[str]] = defaultdict(set)
    for path, module in names.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    parent = ".".join(base + ([node.module] if node.module else []))
                else:
                    parent = node.module or ""
                targets = [f"{parent}.{a.name}" if f"{parent}.{a.name}" in known else parent
                           for a in node.names]
            for target in targets:
                while target and target not in known:  # a name inside a module
                    target = target.rpartition(".")[0]
                if target and target != module:
                    graph[module].add(target)
    return graph


def within(module: str, roots: Iterable[str]) -> bool:
    return any(module == r or module.startswith(r + ".") for r in roots)


def broken_chains(graph: dict[str, set[str]], sources: list[str], forbidden: list[str],
                  ignored: set[tuple[str, str]]) -> list[list[str]]:
    """Return one chain of imports from each source module that reaches a forbidden one."""
    chains = []
    for start in sorted(m for m in graph if within(m, sources)):
        seen = {start: [start]}
        queue = deque([start])
        while queue:
            here = queue.popleft()
            for there in sorted(graph.get(here, ())):
                if (here, there) in ignored or there in seen:
                    continue
                seen[there] = [*seen[here], there]
                if within(there, forbidden):
                    chains.append(seen[there])
                    queue.clear()
                    break
                queue.append(there)
    return chains


def contracts() -> list[dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return config["tool"]["importlinter"]["contracts"]


@pytest.mark.parametrize("contract", contracts(), ids=lambda c: c["name"])
def test_contract_is_kept(contract: dict) -> None:
    assert contract["type"] == "forbidden"
    graph = import_graph()
    ignored = {tuple(s.strip() for s in line.split("->"))
               for line in contract.get("ignore_imports", [])}
    for a, b in ignored:  # an exception must still exist, or it must go
        assert b in graph.get(a, set()), f"ignored import {a} -> {b} no longer exists"
    for source in contract["source_modules"]:
        assert any(within(m, [source]) for m in module_names().values()), source
    chains = broken_chains(graph, contract["source_modules"], contract["forbidden_modules"],
                           ignored)  # type: ignore[arg-type]
    assert chains == [], "\n".join(" -> ".join(c) for c in chains)


def test_the_checker_finds_an_indirect_chain_and_honours_ignored_imports() -> None:
    graph = {"p.science": {"p.helper"}, "p.helper": {"p.cli.output"},
             "p.cli.web": {"p.web.server"}}
    assert broken_chains(graph, ["p.science"], ["p.cli"], set()) == [
        ["p.science", "p.helper", "p.cli.output"]]
    assert broken_chains(graph, ["p.cli"], ["p.web"], {("p.cli.web", "p.web.server")}) == []
    assert broken_chains(graph, ["p.cli"], ["p.web"], set()) == [["p.cli.web", "p.web.server"]]


def test_the_graph_sees_imports_inside_functions() -> None:
    graph = import_graph()
    # dualcontrol.cli.web imports the web server inside its serve command
    assert "dualcontrol.web.server" in graph["dualcontrol.cli.web"]
    assert "dualcontrol.store" in graph["dualcontrol.datasets"]
