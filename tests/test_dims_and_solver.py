"""Symbolic dimensions and the size solver, checked against plain integer arithmetic."""

from hypothesis import given, settings, strategies as st

from cnnlint.shapes import dims as D
from cnnlint.shapes.common import conv_out, pool_out
from cnnlint.shapes.solve import Solver

H, W, N = D.sym("H"), D.sym("W"), D.sym("N")


def test_canonical_form_makes_equal_sizes_equal():
    assert D.add(D.mul(2, H), H) == D.mul(3, H)
    assert D.sub(D.add(H, 5), 5) == H
    assert D.mul(H, W) == D.mul(W, H)
    # floor((floor((H + 1) / 2) + 1) / 2) == floor((H + 3) / 4)
    assert D.floordiv(D.add(D.floordiv(D.add(H, 1), 2), 1), 2) == D.floordiv(D.add(H, 3), 4)
    assert D.exact_div(D.mul(N, 256), 256) == N
    assert D.exact_div(D.mul(N, 256), 400) is None


@settings(max_examples=300, deadline=None)
@given(h=st.integers(1, 600), k=st.integers(1, 7), s=st.integers(1, 4), p=st.integers(0, 3),
       d=st.integers(1, 3), ceil=st.booleans())
def test_symbolic_conv_and_pool_sizes_evaluate_like_integers(h, k, s, p, d, ceil):
    for fn in (lambda x: conv_out(x, k, s, p, d), lambda x: pool_out(x, k, s, p, d, ceil)):
        concrete = fn(h)
        symbolic = fn(H)
        if symbolic is not None:
            assert D.evaluate(symbolic, {"H": h}) == concrete


def test_two_stage_lenet_is_consistent_only_for_some_sizes():
    solver = Solver()
    h = D.floordiv(D.sub(D.floordiv(D.sub(H, 4), 2), 4), 2)     # conv5 pool2 conv5 pool2
    w = D.floordiv(D.sub(D.floordiv(D.sub(W, 4), 2), 4), 2)
    for d in (D.sub(H, 4), D.sub(W, 4), h, w):
        solver.require_positive(d)
    flat = D.mul(16, D.mul(h, w))
    assert solver.can_equal(flat, 400)          # 32x32 inputs
    assert not solver.can_equal(flat, 401)      # no size at all
    found = solver.solutions(flat, 400, limit=3)
    assert found and all(D.evaluate(flat, s) == 400 for s in found)


def test_shifted_valid_convolution_product_is_decided():
    solver = Solver()
    a, b = D.sub(H, 2), D.sub(W, 2)
    solver.require_positive(a)
    solver.require_positive(b)
    flat = D.mul(16, D.mul(a, b))
    assert not solver.can_equal(flat, 402)
    assert solver.can_equal(flat, 16 * 30 * 30)


def test_settled_facts_constrain_later_questions():
    solver = Solver()
    solver.require_positive(H)
    solver.settle(D.mul(4, H), 128)             # an earlier check implied H == 32
    assert not solver.can_equal(H, 31)
    assert solver.can_equal(H, 32)


def test_unknown_is_never_a_mismatch():
    assert Solver().can_equal(None, 5)
    assert Solver().can_equal(H, None)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 11), st.integers(1, 4), st.integers(0, 3)), min_size=1, max_size=6),
       st.integers(1, 40))
def test_smallest_size_a_chain_of_convolutions_runs_on(layers, lower):
    """The smallest input side every layer of a chain of convolutions accepts (found by bisection on these
    nondecreasing sizes) is the one a scan of every side from the symbol's lower bound finds."""
    solver = Solver()
    h = solver.symbol("H", lower=lower)
    size = h
    for k, s, p in layers:
        size = conv_out(size, k, s, p, 1)
        solver.require_positive(size)

    def runs(v):
        return all((D.evaluate(q, {"H": v}) or 0) >= 1 for q in solver.positive)
    expected = next((v for v in range(lower, 20_000) if runs(v)), None)
    assert solver._smallest("H") == expected
    assert solver._smallest("H") == expected      # asked again: the remembered answer


@settings(max_examples=200, deadline=None)
@given(a=st.integers(-5, 5), b=st.integers(-5, 5), c=st.integers(-20, 20), d=st.integers(1, 9),
       e=st.integers(1, 5))
def test_floordiv_and_mod_of_any_linear_size_evaluate_like_python(a, b, c, d, e):
    """(a*H + b*(H//e) + c) // d and % d, with coefficients of either sign (a pad to a multiple is `-W % k`)."""
    h = D.sym("H")
    expr = D.add(D.add(D.mul(a, h), D.mul(b, D.floordiv(h, e))), c)
    quotient, remainder = D.floordiv(expr, d), D.mod(expr, d)
    for value in range(1, 40):
        plain = a * value + b * (value // e) + c
        assert D.evaluate(quotient, {"H": value}) == plain // d
        assert D.evaluate(remainder, {"H": value}) == plain % d


def test_padding_to_a_multiple_is_a_monotone_size():
    w = D.sym("W")
    padded = D.add(w, D.mod(D.sub(4, D.mod(w, 4)), 4))      # W + (4 - W % 4) % 4
    assert padded == D.mul(4, D.floordiv(D.add(w, 3), 4)) and D.is_monotone(padded)


# -- sizes known to divide evenly -----------------------------------------------------------------------------------

def _window_shapes(window=7):
    H, W, N, C = D.sym("H"), D.sym("W"), D.sym("N"), 32
    h, w = D.floordiv(H, 4), D.floordiv(W, 4)            # a stride-4 stem
    before = (N, h, w, C)
    after = (N, D.floordiv(h, window), window, D.floordiv(w, window), window, C)   # a window partition's view
    return before, after, h, w, N, C


@given(st.integers(1, 40), st.integers(1, 40), st.integers(0, 3), st.integers(0, 3), st.integers(1, 9))
@settings(max_examples=60, deadline=None)
def test_a_view_with_floor_sizes_teaches_what_divides(m, k, r, s, n):
    # the partition's view runs only when 7 divides H//4 and W//4; from then on the reverse view's -1 is N, and
    # that quotient is right at every size where the partition runs (H = 28m + r, r < 4)
    before, after, h, w, N, C = _window_shapes()
    solver = Solver()
    assert D.exact_div(D.product(after), D.mul(D.mul(h, w), C)) is None       # not without the facts
    solver.learn_reshape(before, after)
    assert solver.exact_div(D.product(after), D.mul(D.mul(h, w), C)) == N
    env = {"H": 28 * m + r, "W": 28 * k + s, "N": n}
    assert D.evaluate(D.product(after), env) == D.evaluate(D.product(before), env)


def test_an_assert_of_a_remainder_is_the_same_fact():
    before, after, h, w, N, C = _window_shapes()
    solver = Solver()
    solver.divides(h, 7)
    solver.divides(w, 7)
    assert solver.exact_div(D.product(after), D.mul(D.mul(h, w), C)) == N


def test_views_that_need_no_fact_or_cannot_hold_teach_nothing():
    before, after, h, w, N, C = _window_shapes()
    solver = Solver()
    solver.learn_reshape(before, (N, D.mul(h, w), C))                     # a flatten: equal as written
    solver.learn_reshape(before, (N, D.floordiv(h, 7), 7, w, C, 2))       # twice the elements: never equal
    solver.learn_reshape((N, D.add(h, w)), (N, D.floordiv(h, 7), 7))      # never equal, even when 7 divides
    assert solver.exact == {}


@given(st.integers(1, 4), st.integers(0, 3), st.integers(1, 5), st.integers(-6, 6), st.booleans())
@settings(max_examples=80, deadline=None)
def test_a_difference_is_decided_whichever_side_grows(k, pool, c, const, flip):
    # can_equal(a, b) must not depend on the order of its arguments, and must agree with a brute-force search
    # (the sizes here are monotone in N and H, so small values decide)
    solver = Solver()
    n, h = solver.symbol("N"), solver.symbol("H")
    tokens = D.floordiv(h, 2 ** pool) if pool else h
    a = D.mul(D.mul(n, tokens), c)
    b = D.add(D.mul(D.mul(n, D.add(tokens, k)), c), const)
    first, second = (b, a) if flip else (a, b)
    brute = any(D.evaluate(D.sub(a, b), {"N": nv, "H": hv}) == 0 for nv in range(1, 40) for hv in range(1, 200))
    assert solver.can_equal(first, second) == brute

