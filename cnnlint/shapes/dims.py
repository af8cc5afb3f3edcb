"""Symbolic dimensions.

A dimension is an ``int``, ``None`` (unknown: satisfies every check) or an :class:`Expr`, a polynomial with
integer coefficients over *atoms*. An atom is a named symbol (``N``, ``H``) or a floor division of an expression
by a positive integer, which is what conv/pool output sizes are made of. Expressions are kept in a canonical
form so that two equal sizes compare equal structurally.
"""

from __future__ import annotations

from typing import Iterable, Union


class Sym:
    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def key(self) -> str:
        return self.name

    def __eq__(self, other):
        return isinstance(other, Sym) and other.name == self.name

    def __hash__(self):
        return hash(("sym", self.name))

    def __repr__(self):
        return self.name


class FloorDiv:
    __slots__ = ("num", "den", "_key")

    def __init__(self, num: "Expr", den: int):
        self.num = num
        self.den = den
        inner = num.key()
        simple = len(num.terms) == 1 and list(num.terms.values())[0] == 1
        self._key = f"{inner}//{den}" if simple else f"({inner})//{den}"

    def key(self) -> str:
        return self._key

    def __eq__(self, other):
        return isinstance(other, FloorDiv) and other._key == self._key

    def __hash__(self):
        return hash(self._key)

    def __repr__(self):
        return self._key


Atom = Union[Sym, FloorDiv]
Monomial = tuple  # sorted tuple of atoms (with repetition for powers); () is the constant term


class Expr:
    """A canonical polynomial: {monomial: coefficient}, zero coefficients dropped."""

    __slots__ = ("terms", "_key")

    def __init__(self, terms: dict):
        self.terms = {m: c for m, c in terms.items() if c != 0}
        self._key = None

    def key(self) -> str:
        if self._key is None:
            parts = []
            # symbolic terms first, the constant last: "H//2 - 6", as people write sizes
            for mono in sorted(self.terms, key=lambda m: (len(m) == 0, -len(m), [a.key() for a in m])):
                coeff = self.terms[mono]
                # a floor division multiplied by something is bracketed: 2*((H + 1)//2), not 2*(H + 1)//2
                wrap = len(mono) > 1 or coeff not in (1, -1)
                body = "*".join(f"({a.key()})" if wrap and isinstance(a, FloorDiv) else a.key() for a in mono)
                if not body:
                    parts.append(str(coeff))
                elif coeff == 1:
                    parts.append(body)
                elif coeff == -1:
                    parts.append("-" + body)
                else:
                    parts.append(f"{coeff}*{body}")
            self._key = " + ".join(parts).replace("+ -", "- ") or "0"
        return self._key

    def __repr__(self):
        return self.key()

    def __eq__(self, other):
        return isinstance(other, Expr) and other.key() == self.key()

    def __hash__(self):
        return hash(self.key())

    def constant(self) -> int:
        return self.terms.get((), 0)


Dim = Union[int, Expr, None]


def sym(name: str) -> Expr:
    return Expr({(Sym(name),): 1})


def _as_expr(d) -> Expr:
    if isinstance(d, Expr):
        return d
    return Expr({(): int(d)})


def _simplify(e: Expr):
    """An Expr that is a plain constant becomes an int."""
    if not e.terms:
        return 0
    if len(e.terms) == 1 and () in e.terms:
        return e.terms[()]
    return e


def add(a: Dim, b: Dim) -> Dim:
    if a is None or b is None:
        return None
    if isinstance(a, int) and isinstance(b, int):
        return a + b
    terms = dict(_as_expr(a).terms)
    for m, c in _as_expr(b).terms.items():
        terms[m] = terms.get(m, 0) + c
    return _simplify(Expr(terms))


def neg(a: Dim) -> Dim:
    if a is None:
        return None
    if isinstance(a, int):
        return -a
    return Expr({m: -c for m, c in a.terms.items()})


def sub(a: Dim, b: Dim) -> Dim:
    return add(a, neg(b))


def mul(a: Dim, b: Dim) -> Dim:
    if a is None or b is None:
        return None
    if isinstance(a, int) and isinstance(b, int):
        return a * b
    if a == 0 or b == 0:
        return 0
    terms: dict = {}
    for ma, ca in _as_expr(a).terms.items():
        for mb, cb in _as_expr(b).terms.items():
            m = tuple(sorted(ma + mb, key=lambda at: at.key()))
            terms[m] = terms.get(m, 0) + ca * cb
    return _simplify(Expr(terms))


def floordiv(a: Dim, d: Dim) -> Dim:
    """floor(a / d) for a positive integer divisor, or a symbolic one that divides a exactly (windows.shape[0] //
    (Hp * Wp // 49)); anything else is unknown."""
    if isinstance(d, Expr) and a is not None:
        return exact_div(a, d)
    if a is None or not isinstance(d, int) or d <= 0:
        return None
    if isinstance(a, int):
        return a // d
    if d == 1:
        return a
    exact, rest = {}, {}
    for m, c in a.terms.items():
        if m and c % d == 0:
            exact[m] = c // d
        else:
            rest[m] = c
    const = rest.pop((), 0)
    if not rest:
        return add(_simplify(Expr(exact)), const // d)
    if all(c < 0 for c in rest.values()):
        # floor((c - A) / d) == -ceil((A - c) / d) == -floor((A - c + d - 1) / d): a numerator that grows
        flipped = Expr({m: -c for m, c in rest.items()})
        return add(_simplify(Expr(exact)), neg(floordiv(add(flipped, d - 1 - const), d)))
    if len(rest) == 1:
        (mono, coeff), = rest.items()
        if len(mono) == 1 and isinstance(mono[0], FloorDiv) and coeff == 1:
            # floor((floor(x / a) + c) / b) == floor((x + c*a) / (a*b))
            a_ = mono[0].den
            return add(_simplify(Expr(exact)), floordiv(add(mono[0].num, const * a_), a_ * d))
    # floor((d*q + r + k*d) / d) == q + k + floor(r / d) for integer-valued q
    k, const = divmod(const, d)
    if const:
        rest[()] = const
    inner = Expr(rest)
    atom = FloorDiv(inner, d)
    return add(add(_simplify(Expr(exact)), k), Expr({(atom,): 1}))


def mod(a: Dim, d: Dim) -> Dim:
    """a % d for a positive integer d, as Python computes it (0 <= a % d < d): a - d * (a // d)."""
    q = floordiv(a, d)
    return None if q is None else sub(a, mul(d, q))


def ceildiv(a: Dim, d: Dim) -> Dim:
    if not isinstance(d, int) or d <= 0:
        return None
    return floordiv(add(a, d - 1), d)


def exact_div(a: Dim, b: Dim) -> Dim:
    """a / b when it is certainly a whole number; unknown otherwise."""
    if a is None or b is None or b == 0:
        return None
    if isinstance(a, int) and isinstance(b, int):
        return a // b if a % b == 0 else None
    if isinstance(b, int):
        ea = _as_expr(a)
        if all(c % b == 0 for c in ea.terms.values()):
            return _simplify(Expr({m: c // b for m, c in ea.terms.items()}))
        return None
    # divide by a single-term expression (e.g. N*256 / N)
    eb = _as_expr(b)
    if len(eb.terms) != 1:
        return None
    (mono_b, coeff_b), = eb.terms.items()
    out = {}
    for m, c in _as_expr(a).terms.items():
        rest = list(m)
        for atom in mono_b:
            if atom in rest:
                rest.remove(atom)
            else:
                return None
        if c % coeff_b:
            return None
        out[tuple(rest)] = c // coeff_b
    return _simplify(Expr(out))


def assign_atoms(d: Dim, values: dict) -> Dim:
    """d with the atoms in `values` (a symbol or a floor division -> an int) replaced by their values."""
    if not isinstance(d, Expr) or not values:
        return d
    return _map_atoms(d, lambda atom: values.get(atom, Expr({(atom,): 1})))


def _map_atoms(d: Expr, factor) -> Dim:
    """d rebuilt with each atom replaced by factor(atom)."""
    out: Dim = 0
    for mono, coeff in d.terms.items():
        term: Dim = coeff
        for atom in mono:
            term = mul(term, factor(atom))
        out = add(out, term)
    return out


def floor_atoms(d: Dim) -> set:
    """The floor divisions of an expression, nested ones included."""
    if not isinstance(d, Expr):
        return set()
    out = set()
    for mono in d.terms:
        for atom in mono:
            if isinstance(atom, FloorDiv):
                out.add(atom)
                out |= floor_atoms(atom.num)
    return out


def expand_exact(d: Dim, exact: dict) -> Dim:
    """d with each floor division known to divide evenly multiplied back where its term's coefficient allows
    (`exact`: atom -> (a, k), the atom being exactly a / k): `7*(H//28)*W` is `(H//4)*W` when 7 divides H//4.
    Equal to d wherever the facts hold."""
    if not isinstance(d, Expr) or not exact:
        return d
    for _ in range(4):
        out: Dim = 0
        changed = False
        for mono, coeff in d.terms.items():
            factors = []
            for atom in mono:
                whole = exact.get(atom) if isinstance(atom, FloorDiv) else None
                if whole is not None and coeff % whole[1] == 0:
                    coeff //= whole[1]
                    factors.append(whole[0])
                    changed = True
                else:
                    factors.append(Expr({(atom,): 1}))
            out = add(out, mul(coeff, product(factors)))
        d = out
        if not changed or not isinstance(d, Expr):
            break
    return d


def exact_parts(atom: FloorDiv, known=()) -> tuple:
    """(a, k) with atom == floor(a / k) where a is one of the floor divisions in `known` (H//28 is (H//4)//7
    when H//4 is known), else the atom's own numerator and divisor."""
    for d in range(atom.den - 1, 1, -1):
        if atom.den % d == 0:
            inner = FloorDiv(atom.num, d)
            if inner in known:
                return Expr({(inner,): 1}), atom.den // d
    return atom.num, atom.den


def product(dims: Iterable[Dim]) -> Dim:
    out: Dim = 1
    for d in dims:
        out = mul(out, d)
    return out


def symbols(d: Dim) -> set:
    if not isinstance(d, Expr):
        return set()
    out = set()
    for mono in d.terms:
        for atom in mono:
            if isinstance(atom, Sym):
                out.add(atom.name)
            else:
                out |= symbols(atom.num)
    return out


def evaluate(d: Dim, env: dict) -> int | None:
    if d is None or isinstance(d, int):
        return d
    total = 0
    for mono, coeff in d.terms.items():
        value = coeff
        for atom in mono:
            if isinstance(atom, Sym):
                v = env.get(atom.name)
            else:
                inner = evaluate(atom.num, env)
                v = None if inner is None else inner // atom.den
            if v is None:
                return None
            value *= v
        total += value
    return total


def substitute(d: Dim, env: dict) -> Dim:
    """Replace the symbols bound in env, keeping the others symbolic."""
    if not isinstance(d, Expr) or not env or not (symbols(d) & env.keys()):
        return d
    return _map_atoms(d, lambda atom: env.get(atom.name, Expr({(atom,): 1})) if isinstance(atom, Sym)
                      else floordiv(substitute(atom.num, env), atom.den))


def is_monotone(d: Dim) -> bool:
    """Nondecreasing in every symbol: positive coefficients on every non-constant term, monotone atoms."""
    if not isinstance(d, Expr):
        return True
    for mono, coeff in d.terms.items():
        if mono and coeff < 0:
            return False
        for atom in mono:
            if isinstance(atom, FloorDiv) and not is_monotone(atom.num):
                return False
    return True


def _period(d: Dim) -> int | None:
    """The period of the floor divisions in an expression (the lcm of their divisors), or None when an atom is
    multiplied by another (not linear in its symbol)."""
    from math import lcm
    if not isinstance(d, Expr):
        return 1
    period = 1
    for mono in d.terms:
        if len(mono) > 1:
            return None
        for atom in mono:
            if isinstance(atom, FloorDiv):
                inner = _period(atom.num)
                if inner is None:
                    return None
                period = lcm(period, inner * atom.den)
    return period


def never_negative(d: Dim, lower: int = 1) -> bool:
    """True when `d` >= 0 for every value >= `lower` of its one symbol: a sum of the symbol and floor divisions of
    it is a line plus a periodic part, so one period at the bottom and the slope decide. False when no proof."""
    if isinstance(d, int):
        return d >= 0
    names = symbols(d)
    if len(names) != 1:
        return False
    (name,) = names
    period = _period(d)
    if period is None or period > 1024:
        return False
    values = [evaluate(d, {name: x}) for x in range(lower, lower + period + 1)]
    if None in values:
        return False
    slope = values[-1] - values[0]       # per period: d(x + P) - d(x), the same for every x
    return slope >= 0 and min(values[:-1]) >= 0


def show(d: Dim) -> str:
    if d is None:
        return "?"
    if isinstance(d, int):
        return str(d)
    text = d.key()
    return text if len(d.terms) == 1 and list(d.terms.values())[0] > 0 else f"({text})"


def show_shape(shape) -> str:
    if shape is None:
        return "(?)"
    inner = ", ".join(show(d) for d in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"
