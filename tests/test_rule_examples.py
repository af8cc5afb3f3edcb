"""Every rule's own examples: the ones that must fire do, the ones that must not stay silent."""

import pytest

from cnnlint import lint_source
from cnnlint.rules import all_rules

CASES = [(r.code, "fires", i, src) for r in all_rules() for i, src in enumerate(r.fires)] + \
        [(r.code, "silent", i, src) for r in all_rules() for i, src in enumerate(r.silent)]


def test_every_rule_has_examples_both_ways():
    for r in all_rules():
        assert r.fires and r.silent, r.code


@pytest.mark.parametrize("code,kind,index,source", CASES, ids=[f"{c}-{k}-{i}" for c, k, i, _ in CASES])
def test_rule_example(code, kind, index, source):
    codes = [d.code for d in lint_source(source, "example.py")]
    if kind == "fires":
        assert code in codes, codes
    else:
        assert code not in codes, codes
    # an example must not trip the others either, or the docs would mislead
    assert set(codes) <= {code}, codes
