"""modelkit's YAML reader builds exactly what yaml.safe_load builds."""

from __future__ import annotations

import pytest
import yaml

from modelkit.core import yamlio
from modelkit.core.errors import ProjectError

DOCUMENTS = [
    "a: 1\nb: 2.5\nc: true\nd: null\ne: ~\nf: 'true'\ng: 2024-01-02\n",
    "models:\n  - name: x\n    columns: [{name: id, tests: [unique, not_null]}]\n",
    "base: &b {x: 1, y: [1, 2]}\nother:\n  <<: *b\n  y: 3\n",
    "list: &l [a, b]\ncopy: *l\n",
    "- 1\n- two\n- {three: 3}\n",
    'empty_map: {}\nempty_list: []\nquoted: "a: b"\nmulti: |\n  line one\n  line two\n',
    "yes_no: [yes, no, on, off]\noctal: 0o17\nhex: 0x1f\nnumbers: [1_000, -3, .5, 1e3]\n",
    "",
    "# only a comment\n",
]


@pytest.mark.parametrize("text", DOCUMENTS)
def test_same_as_safe_load(text: str) -> None:
    assert yamlio.loads(text, "x.yml") == yaml.safe_load(text)


def test_unhashable_key_is_an_error() -> None:
    with pytest.raises(ProjectError, match="x.yml"):
        yamlio.loads("? [a, b]\n: 1\n", "x.yml")
