"""Method calculations: formulas over other results and constants, evaluated safely, in dependency order.

A formula is an arithmetic expression (`m1 * v / (m0 * (1 - w/100))`), parsed with Python's `ast` and
walked here: only numbers, names, + - * / **, parentheses and a few functions are allowed; nothing is
ever passed to eval. Arithmetic is decimal. Names are the keywords of other results of the same sample
or the method's constants; a formula whose inputs are missing stays pending. Pure Python, no Django.
"""

from __future__ import annotations

import ast
import functools
import graphlib
from collections.abc import Callable, Mapping
from decimal import Decimal, DivisionByZero, InvalidOperation, Overflow, localcontext

MAX_LENGTH = 500
MAX_EXPONENT = 100


class FormulaError(ValueError):
    pass


def _ln(x: Decimal) -> Decimal:
    return x.ln()


def _log10(x: Decimal) -> Decimal:
    return x.log10()


def _sqrt(x: Decimal) -> Decimal:
    return x.sqrt()


def _exp(x: Decimal) -> Decimal:
    return x.exp()


FUNCTIONS: dict[str, Callable[..., Decimal]] = {
    "ln": _ln, "log10": _log10, "sqrt": _sqrt, "exp": _exp, "abs": abs,
    "min": min, "max": max, "avg": lambda *xs: sum(xs, Decimal(0)) / len(xs),
}
_OPERATORS: dict[type[ast.operator], Callable[[Decimal, Decimal], Decimal]] = {
    ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
}


class Formula:
    def __init__(self, text: str) -> None:
        if len(text) > MAX_LENGTH:
            raise FormulaError(f"a formula has at most {MAX_LENGTH} characters")
        try:
            self.tree = ast.parse(text.strip(), mode="eval").body
        except SyntaxError as exc:
            raise FormulaError(f"not a formula: {text!r} ({exc.msg})") from exc
        self.text = text
        self.names: set[str] = set()
        self._check(self.tree)
        self._run = self._compile(self.tree)

    def _check(self, node: ast.AST) -> None:
        if isinstance(node, ast.Constant):
            if not isinstance(node.value, int | float) or isinstance(node.value, bool):
                raise FormulaError(f"only numbers may appear as constants, not {node.value!r}")
        elif isinstance(node, ast.Name):
            if node.id in FUNCTIONS:
                raise FormulaError(f"{node.id} is a function; call it: {node.id}(…)")
            self.names.add(node.id)
        elif isinstance(node, ast.BinOp):
            if type(node.op) not in _OPERATORS and not isinstance(node.op, ast.Pow):
                raise FormulaError(f"operator {type(node.op).__name__} is not allowed")
            self._check(node.left)
            self._check(node.right)
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, ast.USub | ast.UAdd):
                raise FormulaError(f"operator {type(node.op).__name__} is not allowed")
            self._check(node.operand)
        elif isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS or node.keywords:
                raise FormulaError(f"only these functions: {', '.join(sorted(FUNCTIONS))}")
            if not node.args:
                raise FormulaError(f"{node.func.id}() needs an argument")
            for arg in node.args:
                self._check(arg)
        else:
            raise FormulaError(f"{type(node).__name__} is not allowed in a formula")

    def evaluate(self, values: Mapping[str, Decimal]) -> Decimal:
        missing = self.names - set(values)
        if missing:
            raise FormulaError(f"missing inputs: {', '.join(sorted(missing))}")
        with localcontext() as ctx:
            ctx.prec = 28
            ctx.traps[DivisionByZero] = True
            ctx.traps[InvalidOperation] = True
            try:
                return self._run(values)
            except (DivisionByZero, ZeroDivisionError) as exc:
                raise FormulaError(f"division by zero in {self.text!r}") from exc
            except InvalidOperation as exc:
                raise FormulaError(f"undefined result in {self.text!r} (e.g. log or root of a negative)") from exc
            except Overflow as exc:  # exp(10**12): a clear refusal, not decimal's own exception
                raise FormulaError(f"the result of {self.text!r} is too large") from exc

    def _compile(self, node: ast.AST) -> Callable[[Mapping[str, Decimal]], Decimal]:
        """The checked tree as nested closures, built once: a method's formula is evaluated for every sample,
        and several times more to propagate uncertainty, and walking the tree on every call was most of it.
        Constants are the digits as written (0.1 is 0.1, not a binary float); arithmetic is decimal, in the
        context `evaluate` sets."""
        if isinstance(node, ast.Constant):
            constant = Decimal(str(node.value))
            return lambda values: constant
        if isinstance(node, ast.Name):
            name = node.id
            return lambda values: Decimal(values[name])
        if isinstance(node, ast.UnaryOp):
            operand = self._compile(node.operand)
            if isinstance(node.op, ast.USub):
                return lambda values: -operand(values)
            return operand
        if isinstance(node, ast.BinOp):
            left, right = self._compile(node.left), self._compile(node.right)
            if isinstance(node.op, ast.Pow):
                def power(values: Mapping[str, Decimal]) -> Decimal:
                    base, exponent = left(values), right(values)
                    if abs(exponent) > MAX_EXPONENT:
                        raise FormulaError(f"exponents are limited to ±{MAX_EXPONENT}")
                    return base ** exponent

                return power
            op = _OPERATORS[type(node.op)]
            return lambda values: op(left(values), right(values))
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        function, args = FUNCTIONS[node.func.id], [self._compile(a) for a in node.args]
        return lambda values: Decimal(function(*(a(values) for a in args)))


@functools.lru_cache(maxsize=512)
def parse(text: str) -> Formula:
    """A method's formula, parsed once however many samples use it (a Formula is never changed after)."""
    return Formula(text)


def calculation_order(formulas: Mapping[str, Formula]) -> list[str]:
    """The calculated keywords in an order where each comes after everything it uses."""
    return list(_order(tuple((name, f.text) for name, f in formulas.items())))


@functools.lru_cache(maxsize=512)
def _order(formulas: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    # Cached by the formulas' texts: every sample of a method has the same ones, and sorting them anew for
    # each of thousands of samples cost more than evaluating them. A cycle raises and is not cached.
    named = {name: parse(text) for name, text in formulas}
    graph = {name: {n for n in f.names if n in named} for name, f in named.items()}
    try:
        return tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as exc:
        raise FormulaError(f"the formulas depend on each other in a circle: {' → '.join(exc.args[1])}") from exc


def calculate(formulas: Mapping[str, Formula], values: Mapping[str, Decimal],
              local: Mapping[str, Mapping[str, Decimal]] | None = None) -> dict[str, Decimal | None]:
    """Every calculated value from the entered ones; None where an input is still missing. `local` holds
    each formula's own inputs (a mass, a volume typed for it), seen by that formula only and taking
    precedence over a result of the same name."""
    known: dict[str, Decimal] = dict(values)
    out: dict[str, Decimal | None] = {}
    for name in calculation_order(formulas):
        formula = formulas[name]
        scope = {**known, **(local or {}).get(name, {})}
        if formula.names - set(scope):
            out[name] = None
            continue
        known[name] = out[name] = formula.evaluate(scope)
    return out


def affected_by(formulas: Mapping[str, Formula], changed: str) -> list[str]:
    """The calculated keywords to recompute when `changed` changes, in calculation order."""
    hit = {changed}
    result = []
    for name in calculation_order(formulas):
        if formulas[name].names & hit:
            hit.add(name)
            result.append(name)
    return result
