"""Safe method calculations."""

from decimal import Decimal

import pytest

from opentic.numerics.formula import Formula, FormulaError, affected_by, calculate, calculation_order

D = Decimal


def test_arithmetic_is_decimal_and_functions_are_whitelisted() -> None:
    assert Formula("0.1 + 0.2").evaluate({}) == D("0.3")  # a float would give 0.30000000000000004
    assert Formula("c * v / m * dilution").evaluate({"c": D("0.0125"), "v": D("25"), "m": D("0.5012"),
                                                      "dilution": D("10")}) == D("6.235035913806863527533918595")
    assert Formula("sqrt(u1**2 + u2**2)").evaluate({"u1": D(3), "u2": D(4)}) == 5
    assert Formula("avg(a, b, c)").evaluate({"a": D(1), "b": D(2), "c": D(6)}) == 3
    assert Formula("-log10(h)").evaluate({"h": D("1E-7")}) == 7


@pytest.mark.parametrize("text", [
    "__import__('os').system('rm -rf /')", "a.b", "[1, 2]", "x if y else z", "open('f')", "'text'",
    "lambda: 1", "a and b", "a < b", "f(x)", "True + 1", "(1).real", "x[0]", "a // b", "a % b", "log10",
])
def test_anything_but_arithmetic_is_refused(text: str) -> None:
    with pytest.raises(FormulaError):
        Formula(text)


def test_runaway_and_undefined_results_are_errors_not_crashes() -> None:
    with pytest.raises(FormulaError, match="exponents"):
        Formula("10 ** 10 ** 10").evaluate({})
    with pytest.raises(FormulaError, match="division by zero"):
        Formula("a / b").evaluate({"a": D(1), "b": D(0)})
    with pytest.raises(FormulaError, match="undefined"):
        Formula("sqrt(a)").evaluate({"a": D(-1)})
    with pytest.raises(FormulaError, match="missing inputs: b"):
        Formula("a + b").evaluate({"a": D(1)})
    with pytest.raises(FormulaError):
        Formula("1 +" * 300)


def test_dependency_order_recalculation_and_cycles() -> None:
    # Dry-matter basis: the content on dry matter uses the moisture, itself calculated from two weighings.
    formulas = {
        "dry": Formula("wet * 100 / (100 - moisture)"),
        "moisture": Formula("(m1 - m2) / (m1 - m0) * 100"),
        "wet": Formula("c * v / m"),
    }
    order = calculation_order(formulas)
    assert order.index("moisture") < order.index("dry") and order.index("wet") < order.index("dry")
    values = {"m0": D("20.0000"), "m1": D("25.0000"), "m2": D("24.4000"), "c": D("0.050"), "v": D("20"),
              "m": D("2.000")}
    result = calculate(formulas, values)
    assert result["moisture"] == D("12.00") and result["wet"] == D("0.5")
    assert result["dry"] == D("0.5681818181818181818181818182")
    assert calculate(formulas, {k: v for k, v in values.items() if k != "c"})["dry"] is None
    assert affected_by(formulas, "m2") == ["moisture", "dry"]
    assert affected_by(formulas, "c") == ["wet", "dry"]
    with pytest.raises(FormulaError, match="circle"):
        calculation_order({"a": Formula("b + 1"), "b": Formula("a * 2")})


def test_evaluation_matches_pythons_own_decimal_arithmetic() -> None:
    """The evaluator against an oracle: Python evaluating the same expression with decimal literals and inputs
    in the same context (28 digits), over a few thousand random expressions, to the last digit."""
    import random
    from decimal import localcontext

    rng = random.Random(12)

    def expression(depth: int) -> str:
        if depth == 0 or rng.random() < 0.3:
            return rng.choice(["a", "b", "c", str(rng.randint(1, 99)), f"{rng.random() * 10:.4f}"])
        kind = rng.random()
        if kind < 0.1:
            return f"-({expression(depth - 1)})"
        if kind < 0.2:
            return f"{rng.choice(['abs', 'sqrt', 'exp'])}({expression(depth - 1)})"
        if kind < 0.25:
            return f"({expression(depth - 1)}) ** {rng.randint(0, 3)}"
        return f"({expression(depth - 1)} {rng.choice('+-*/')} {expression(depth - 1)})"

    values = {"a": D("0.0425"), "b": D("12.5"), "c": D("-3.001")}
    compared = 0
    for _ in range(3000):
        text = expression(4)
        oracle_text = ast_decimal(text)
        with localcontext() as ctx:
            ctx.prec = 28
            try:
                functions = {"D": D, "abs": abs, "sqrt": D.sqrt, "exp": D.exp}
                expected = eval(oracle_text, functions, dict(values))  # the oracle, over generated text only
            except (ArithmeticError, ValueError):
                with pytest.raises(FormulaError):
                    Formula(text).evaluate(values)
                continue
        assert Formula(text).evaluate(values) == expected, text
        compared += 1
    assert compared > 2000


def ast_decimal(text: str) -> str:
    """The expression with every numeric literal written as D('…'), the digits as typed."""
    import ast

    class Literals(ast.NodeTransformer):
        def visit_Constant(self, node: ast.Constant) -> ast.AST:
            return ast.Call(ast.Name("D", ast.Load()), [ast.Constant(str(node.value))], [])

    return ast.unparse(ast.fix_missing_locations(Literals().visit(ast.parse(text, mode="eval"))))


def test_an_overflowing_result_is_a_formula_error() -> None:
    with pytest.raises(FormulaError, match="too large"):
        Formula("exp(a)").evaluate({"a": D("1E+12")})
