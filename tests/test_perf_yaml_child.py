"""Property files parsed by a forked child give exactly what the parent parses itself.

The fork only happens from a process running one thread, so these tests run their
parses in a fresh subprocess (pytest's own workers run other threads).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, SAMPLE_PROJECT

from modelkit.api.session import Session
from modelkit.artifacts.writer import node_dict
from modelkit.core import yamlio

pytestmark = pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")

FILES = [
    ("plain.yml", "models:\n  - name: a\n    description: x\n    columns: [{name: id, data_tests: [unique]}]\n"),
    ("date.yml", "models:\n  - name: b\n    meta: {since: 2024-01-02}\n"),  # a date does not survive JSON
    ("broken.yml", "models: [\n"),  # a syntax error: the parent reports it
    ("int_keys.yml", "vars:\n  1: one\n"),
    ("empty.yml", ""),
    ("anchors.yml", "base: &b {x: 1}\nmodels:\n  - name: c\n    config:\n      <<: *b\n      y: 2\n"),
]

CHILD_SCRIPT = """
import json, sys, threading
from modelkit.parse import yamlchild
files = json.loads(sys.stdin.read())
assert threading.active_count() == 1
child = yamlchild.start([tuple(f) for f in files], min_bytes=0)
assert child is not None, "no fork"
print(json.dumps(child.results()))
"""


def test_child_results_equal_parsing_in_process() -> None:
    out = subprocess.run(
        [sys.executable, "-c", CHILD_SCRIPT], input=json.dumps(FILES), capture_output=True, text=True, cwd=REPO
    )
    assert out.returncode == 0, out.stderr
    results = json.loads(out.stdout)
    assert set(results) == {"plain.yml", "empty.yml", "anchors.yml"}  # the others are left to the parent
    for path, text in FILES:
        if path in results:
            assert results[path] == yamlio.loads(text, path)


PARSE_SCRIPT = """
import json, sys
from modelkit.parse import yamlchild
from modelkit.artifacts.writer import node_dict
from modelkit.api.session import Session
yamlchild.MIN_BYTES = 0
started = []
real_start = yamlchild.start
def start(files, **kw):
    child = real_start(files, **kw)
    started.append(child is not None)
    return child
yamlchild.start = start
with Session(sys.argv[1], partial_parse=False) as session:
    nodes = {uid: {k: v for k, v in node_dict(n).items() if k != "created_at"} for uid, n in session.manifest.nodes.items()}
print(json.dumps({"forked": started, "nodes": nodes}, default=str))
"""


def _in_process(root: Path) -> dict:
    with Session(root, partial_parse=False) as session:
        nodes = {
            uid: {k: v for k, v in node_dict(n).items() if k != "created_at"}
            for uid, n in session.manifest.nodes.items()
        }
        return json.loads(json.dumps(nodes, default=str))


@pytest.mark.parametrize("root", [SAMPLE_PROJECT], ids=["sample_project"])
def test_forked_parse_gives_the_same_manifest(root: Path) -> None:
    out = subprocess.run([sys.executable, "-c", PARSE_SCRIPT, str(root)], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["forked"] == [True]
    assert data["nodes"] == _in_process(root)


def test_yaml_errors_still_name_file_and_line(project_factory) -> None:
    root = project_factory({"models/a.sql": "select 1 as id", "models/schema.yml": "models:\n  - name: a\n   bad: [\n"})
    script = PARSE_SCRIPT.replace("print(json.dumps", "raise SystemExit(0)\nprint(json.dumps")
    out = subprocess.run([sys.executable, "-c", script, str(root)], capture_output=True, text=True, cwd=REPO)
    assert out.returncode != 0
    assert "models/schema.yml:3" in out.stderr, out.stderr
