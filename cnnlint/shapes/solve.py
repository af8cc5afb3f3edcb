"""Deciding whether two symbolic sizes can be equal for some input.

A rule may fire only when a mismatch holds for *every* input consistent with what is known. With a symbolic
input (``(N, 3, H, W)``) that means: no assignment of the symbols makes the sizes agree. Sizes built from
conv/pool formulas are nondecreasing in every symbol, so a bounded search is a proof: once a size exceeds its
target at the smallest values of the other symbols, no larger value can help. Where no proof is found the
answer is "maybe", which silences the rule.
"""

from __future__ import annotations

from . import dims as D

MAX_SIZE = 1 << 14          # no symbol is searched beyond this (a 16k image side, a 16k sequence)
BUDGET = 20_000             # expression evaluations one question may cost


class Solver:
    """The symbols of one analysis, the facts known about them, and the questions asked of them."""

    def __init__(self):
        self.lower: dict = {}          # symbol -> smallest plausible value
        self.facts: list = []          # Exprs that must equal zero (earlier checks that were satisfied)
        self.labels: list = []         # what each fact came from ("fc1 in_features"), for `cnnlint shapes`
        self.sides: list = []          # (size that arrives, size expected, graph node judged or None) per fact
        self.positive: list = []       # sizes that must be >= 1 for the model to run at all
        self._next: dict = {}          # base name -> the suffix fresh() tries next
        self._smallest_cache: dict = {}
        self._positive_keys: set = set()
        self._positive_symbols: list = []  # the symbols of each size in `positive`
        self._satisfiable_cache: dict = {}
        self.exact: dict = {}          # floor division -> (a, k): known to be a / k exactly (`assert H % 7 == 0`)

    def symbol(self, name: str, lower: int = 1) -> D.Expr:
        self.lower[name] = lower
        return D.sym(name)

    def fresh(self, base: str, lower: int = 1) -> D.Expr:
        """A symbol no other input uses yet: H, then H2, H3, ... (two inputs of unknown size are not the same)."""
        k = self._next.get(base, 1)
        name = base if k == 1 else f"{base}{k}"
        while name in self.lower:
            k += 1
            name = f"{base}{k}"
        self._next[base] = k + 1
        return self.symbol(name, lower)

    def require_positive(self, d):
        if isinstance(d, D.Expr) and len(self.positive) < 500 and d not in self._positive_keys:
            self._positive_keys.add(d)
            self.positive.append(d)
            self._positive_symbols.append(frozenset(D.symbols(d)))

    def divides(self, a, k):
        """Record that the positive integer k divides a (the code asserted `a % k == 0`, or needs it to run)."""
        if isinstance(a, D.Expr) and isinstance(k, int) and k > 1 and len(self.exact) < 200:
            atom = D.floordiv(a, k)
            if isinstance(atom, D.Expr) and len(atom.terms) == 1:
                (mono, coeff), = atom.terms.items()
                if coeff == 1 and len(mono) == 1 and isinstance(mono[0], D.FloorDiv):
                    self.exact[mono[0]] = (a, k)

    def learn_reshape(self, before, after):
        """A view or reshape to sizes of their own (no -1) runs only if the element counts agree. With floor
        divisions among the new sizes (`x.view(B, H // 7, 7, W // 7, 7, C)`), each at most its exact quotient,
        the counts agree only when every one of them divides evenly: recorded, so that the reverse view
        (`view(-1, H, W, C)`) gives back the batch."""
        if before is None or after is None or None in before or None in after:
            return
        have, want = D.product(before), D.product(after)
        if not isinstance(want, D.Expr) or len(want.terms) != 1 or D.sub(have, want) == 0:
            return
        known = D.floor_atoms(have)
        new = {atom: D.exact_parts(atom, known) for atom in D.floor_atoms(want) - known}
        facts = {**self.exact, **new}
        if new and len(self.exact) < 200 and D.sub(D.expand_exact(have, facts), D.expand_exact(want, facts)) == 0:
            self.exact.update(new)

    def exact_div(self, a, b):
        """a / b when it is certainly a whole number, given what is known to divide evenly."""
        q = D.exact_div(a, b)
        if q is None and self.exact:
            q = D.exact_div(D.expand_exact(a, self.exact), D.expand_exact(b, self.exact))
        return q

    # -- questions ----------------------------------------------------------------------------------------
    def can_equal(self, a, b) -> bool:
        """False only when no plausible input makes a == b."""
        if a is None or b is None:
            return True
        diff = D.sub(a, b)
        if isinstance(diff, int):
            return diff == 0
        return self._satisfiable(diff) is not False

    def at_least(self, a, b) -> bool:
        """True only when a >= b for every plausible input (no proof: False). Each atom of a - b (a symbol, a floor
        division of one) is nondecreasing in the symbols, so it is at least its value at the symbols' smallest
        sizes; written as that value plus a part >= 0, a polynomial whose every non-constant coefficient is
        positive is at least its constant: `(H//8 - 1)*(W//8 - 1) + 1 >= 1` once H, W >= 16."""
        if a is None or b is None:
            return False
        diff = D.sub(a, b)
        if isinstance(diff, int):
            return diff >= 0
        names = D.symbols(diff)
        if len(names) == 1 and D.never_negative(diff, self._smallest(next(iter(names)))):
            return True
        low = {n: self._smallest(n) for n in names}
        atoms, shifted = {}, 0
        for mono, coeff in diff.terms.items():
            term = coeff
            for atom in mono:
                if isinstance(atom, D.FloorDiv) and not D.is_monotone(atom.num):
                    return False
                if atom not in atoms:
                    base = D.evaluate(D.Expr({(atom,): 1}), low)
                    if base is None:
                        return False
                    atoms[atom] = D.add(base, D.sym(f"__atom{len(atoms)}"))
                term = D.mul(term, atoms[atom])
            shifted = D.add(shifted, term)
        if isinstance(shifted, int):
            return shifted >= 0
        return D.is_monotone(shifted) and shifted.constant() >= 0

    def can_be_one(self, a) -> bool:
        return self.can_equal(a, 1)

    def settle(self, a, b, label="", node=None):
        """Record a == b as a fact once a check has accepted it, so later checks see the implied size."""
        if a is None or b is None:
            return
        diff = D.sub(a, b)
        if isinstance(diff, D.Expr) and len(self.facts) < 50 and diff not in self.facts:
            self.facts.append(diff)
            self.labels.append(label)
            self.sides.append((a, b, node))

    def value_range(self, diff, name, limit=10 ** 7):
        """The values of the one symbol `name` that make diff == 0 (with every needed size positive), as (first,
        last), searched up to `limit`; () when there is none; None when diff is not monotone in it (no proof)."""
        if D.symbols(diff) != {name}:
            return None
        target = -diff.constant() if isinstance(diff, D.Expr) else None
        lhs = D.add(diff, target) if target is not None else None
        if lhs is None or not D.is_monotone(lhs):
            return None
        low = self._smallest(name)

        def at(v):
            return D.evaluate(lhs, {name: v})

        def first_reaching(value, lo):
            """The smallest v >= lo with lhs(v) >= value, or None below the limit."""
            hi = lo
            while at(hi) < value:
                if hi >= limit:
                    return None
                lo, hi = hi + 1, min(limit, hi * 2 + 1)
            while lo < hi:
                mid = (lo + hi) // 2
                if at(mid) >= value:
                    hi = mid
                else:
                    lo = mid + 1
            return lo

        start = first_reaching(target, low)
        if start is None or at(start) != target:
            return ()
        end = first_reaching(target + 1, start)
        end = (end - 1) if end is not None else limit
        if not self._consistent({name: start}) or not self._consistent({name: end}):
            return None            # another fact or size rules the ends out: no simple answer
        return (start, end)

    def differing_example(self, a, b, span=8):
        """An assignment of small sizes that makes a != b, with every size the model needs >= 1; None when none is
        found (for warnings that a size agrees only for some inputs: never a proof that they always agree).
        Facts are not consulted: the check that accepted a == b recorded it as one."""
        diff = D.sub(a, b) if a is not None and b is not None else None
        names = sorted(D.symbols(diff))
        if not isinstance(diff, D.Expr) or not names or len(names) > 3:
            return None
        starts = {n: self._smallest(n) for n in names}

        def walk(i, env):
            if i == len(names):
                value = D.evaluate(diff, env)
                return dict(env) if value not in (0, None) and self._sizes_positive(env) else None
            for v in range(starts[names[i]], starts[names[i]] + span):
                env[names[i]] = v
                found = walk(i + 1, env)
                if found:
                    return found
            env.pop(names[i], None)
            return None

        return walk(0, {})

    def solutions(self, a, b, limit=8):
        """Up to `limit` assignments that make a == b (for messages), or None when the search was not complete."""
        diff = D.sub(a, b)
        if isinstance(diff, int):
            return [{}] if diff == 0 else []
        found = []
        ok = self._search(diff, found, limit)
        return found if ok else None

    # -- search -------------------------------------------------------------------------------------------
    def _satisfiable(self, diff):
        # facts and sizes are only ever added: their counts say what the answer was computed under
        key = (diff, len(self.facts), len(self.positive), tuple(sorted((n, self.lower[n]) for n in D.symbols(diff)
                                                                      if n in self.lower)))
        if key in self._satisfiable_cache:
            return self._satisfiable_cache[key]
        found: list = []
        complete = self._search(diff, found, 1)
        answer = True if found else (False if complete else None)
        self._satisfiable_cache[key] = answer
        return answer

    def _smallest(self, name) -> int:
        """The smallest value of a symbol for which every size that depends on it alone is >= 1 (remembered until
        a size is added: every check of a model asks it again)."""
        key = (name, self.lower.get(name, 1), len(self.positive))
        found = self._smallest_cache.get(key)
        if found is None:
            found = self._smallest_cache[key] = self._find_smallest(name, key[1])
        return found

    def _find_smallest(self, name, value) -> int:
        own = [p for p in self.positive if D.symbols(p) == {name}]

        def fits(v):
            return all((D.evaluate(p, {name: v}) or 0) >= 1 for p in own)
        if all(D.is_monotone(p) for p in own):
            # nondecreasing sizes (conv and pool formulas): once they fit they keep fitting, so bisect
            hi = value
            while hi <= MAX_SIZE and not fits(hi):
                hi = value + 2 * (hi - value) + 1
            if hi > MAX_SIZE:
                return MAX_SIZE + 1 if not fits(MAX_SIZE) else self._bisect(fits, value, MAX_SIZE)
            return self._bisect(fits, value, hi)
        while value <= MAX_SIZE and not fits(value):
            value += 1
        return value

    @staticmethod
    def _bisect(fits, lo, hi) -> int:
        """The smallest v in [lo, hi] with fits(v), given fits(hi) and fits monotone."""
        while lo < hi:
            mid = (lo + hi) // 2
            if fits(mid):
                hi = mid
            else:
                lo = mid + 1
        return lo

    def _search(self, diff, found, limit) -> bool:
        """Depth-first search over the symbols of `diff`; True when it covered the whole space."""
        names = sorted(D.symbols(diff))
        if len(names) > 3:
            return False
        # Shift every symbol to start at its smallest valid size: (H - 2)(W - 2) becomes (1 + H')(1 + W'),
        # monotone again, so the bounded search below stays a proof.
        shift = {n: self._smallest(n) - 1 for n in names}
        shifted = D.substitute(diff, {n: D.add(D.sym(n), s) for n, s in shift.items() if s})
        if isinstance(shifted, int):
            return shifted == 0 and not found.append({n: s + 1 for n, s in shift.items()})
        # diff = lhs - target with lhs monotone: the usual shape of a size check (or its negation, which has the
        # same zeros: `B*N*C - B*(N + 1)*C` is -B*C)
        target = -shifted.constant()
        lhs = D.add(shifted, target)
        if not D.is_monotone(lhs):
            target, lhs = -target, D.neg(lhs)
        if not D.is_monotone(lhs):
            return self._search_nonmonotone(diff, names, found, limit)
        budget = [BUDGET]

        def walk(i, env):
            if budget[0] <= 0:
                return False
            if i == len(names):
                budget[0] -= 1
                original = {n: v + shift[n] for n, v in env.items()}
                if D.evaluate(lhs, env) == target and self._consistent(original):
                    found.append(original)
                return True
            name = names[i]
            value = 1
            complete = True
            while value <= MAX_SIZE:
                env[name] = value
                # the smallest lhs with this value: remaining symbols at their lower bounds
                floor_env = dict(env)
                for rest in names[i + 1:]:
                    floor_env[rest] = 1
                budget[0] -= 1
                if D.evaluate(lhs, floor_env) > target:
                    break
                if not walk(i + 1, env):
                    complete = False
                    break
                if len(found) >= limit:
                    break
                value += 1
            else:
                complete = False
            env.pop(name, None)
            return complete

        return walk(0, {})

    def _search_nonmonotone(self, diff, names, found, limit) -> bool:
        """No proof is possible here: look for a witness among small sizes; never claim completeness."""
        if len(names) != 1:
            return False
        name = names[0]
        for value in range(self.lower.get(name, 1), 4097):
            env = {name: value}
            if D.evaluate(diff, env) == 0 and self._consistent(env):
                found.append(env)
                if len(found) >= limit:
                    break
        return False

    def _consistent(self, env) -> bool:
        for fact in self.facts:
            value = D.evaluate(fact, env)
            if value is not None and value != 0:
                return False
        return self._sizes_positive(env)

    def _sizes_positive(self, env) -> bool:
        """Every size the model needs to run is >= 1 under env (sizes env does not decide are let be)."""
        names = env.keys()
        for size, symbols in zip(self.positive, self._positive_symbols):
            if symbols <= names:
                value = D.evaluate(size, env)
                if value is not None and value < 1:
                    return False
        return True
