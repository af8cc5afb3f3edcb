"""Which constructor parameters the code uses as something other than a size.

A class built on its own gives each parameter without a default and without an annotation a positive size symbol
(`MLP(in_dim, hidden)`); that is right only for a parameter the code uses as a number. One it tests as a flag
(`if bidirectional:`, `2 if residual else 1`, `self.use_bn = use_bn` then `if self.use_bn:` in forward), calls
(`block(...)`, `act()`), indexes, iterates or reads an attribute of (`layers[0]`, `for c in channels`,
`backbone.fc`), compares with a string or None, or passes where torch takes a float or a flag (`dropout=`, `p=`,
`bias=`) is not a size: it is given an unknown value instead. Read from the class's source, never run.
"""

from __future__ import annotations

import libcst as cst

# keywords of torch layers and functions that take a probability, a float or a flag, never a size
_NOT_SIZE_KEYWORDS = frozenset("""p dropout attn_drop proj_drop drop_rate drop_path_rate eps momentum bias inplace
bidirectional batch_first affine track_running_stats elementwise_affine negative_slope alpha beta lambd
ceil_mode count_include_pad align_corners return_indices device dtype padding_mode mode approximate scale_factor
norm_first enable_nested_tensor add_bias_kv add_zero_attn""".split())
# builtins whose argument is a sequence, an object or a flag
_NOT_SIZE_FUNCTIONS = frozenset("len isinstance issubclass callable hasattr getattr setattr bool str float list "
                                "tuple sorted reversed enumerate zip iter next any all".split())


def non_size_parameters(cls_node: cst.ClassDef, init: cst.FunctionDef, names) -> set:
    """The names among `names` (parameters of `init`, the constructor of the class `cls_node` or of a base) that
    the code uses as something other than a size: in `init`, or through `self.<attr> = <name>` in any method of
    the class."""
    names = set(names)
    found = set()
    aliases = {}            # attribute of self -> the parameter it holds
    init.visit(_Uses(names, found, aliases))
    if aliases:
        for stmt in cls_node.body.body:
            if isinstance(stmt, cst.FunctionDef):
                stmt.visit(_Uses(set(), found, aliases, attributes=True))
    return found


class _Uses(cst.CSTVisitor):
    def __init__(self, names, found, aliases, attributes=False):
        super().__init__()
        self.names, self.found, self.aliases, self.attributes = names, found, aliases, attributes

    def _param(self, expr):
        """The parameter an expression is, when it is one: the bare name in the constructor, `self.<attr>` that
        holds one in a method."""
        if isinstance(expr, cst.Name) and expr.value in self.names:
            return expr.value
        if self.attributes and isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name) and \
                expr.value.value == "self":
            return self.aliases.get(expr.attr.value)
        return None

    def _flag(self, *exprs):
        for expr in exprs:
            if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Not):
                expr = expr.expression
            name = self._param(expr)
            if name is not None:
                self.found.add(name)

    def visit_Assign(self, node):
        name = self._param(node.value) if not self.attributes else None
        if name is not None:
            for target in node.targets:
                t = target.target
                if isinstance(t, cst.Attribute) and isinstance(t.value, cst.Name) and t.value.value == "self":
                    self.aliases[t.attr.value] = name

    def visit_If(self, node):
        self._flag(node.test)

    def visit_While(self, node):
        self._flag(node.test)

    def visit_IfExp(self, node):
        self._flag(node.test)

    def visit_Assert(self, node):
        self._flag(node.test)

    def visit_BooleanOperation(self, node):
        self._flag(node.left, node.right)

    def visit_UnaryOperation(self, node):
        if isinstance(node.operator, cst.Not):
            self._flag(node.expression)

    def visit_Call(self, node):
        self._flag(node.func)
        called = node.func.value if isinstance(node.func, cst.Name) else None
        for arg in node.args:
            keyword = arg.keyword.value if arg.keyword is not None else None
            if arg.star or keyword in _NOT_SIZE_KEYWORDS or called in _NOT_SIZE_FUNCTIONS:
                self._flag(arg.value)

    def visit_Subscript(self, node):
        self._flag(node.value)

    def visit_Attribute(self, node):
        if not (self.attributes and isinstance(node.value, cst.Name) and node.value.value == "self"):
            self._flag(node.value)

    def visit_For(self, node):
        self._flag(node.iter)

    def visit_CompFor(self, node):
        self._flag(node.iter)

    def visit_StarredElement(self, node):
        self._flag(node.value)

    def visit_Comparison(self, node):
        left = node.left
        for target in node.comparisons:
            right = target.comparator
            if isinstance(target.operator, (cst.Is, cst.IsNot, cst.In, cst.NotIn)) or any(
                    _not_a_number(e) for e in (left, right)):
                self._flag(left, right)
            left = right


def _not_a_number(expr):
    """A literal that no size equals: a string, None, True/False, a float."""
    return isinstance(expr, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString, cst.Float)) or (
        isinstance(expr, cst.Name) and expr.value in ("None", "True", "False"))
