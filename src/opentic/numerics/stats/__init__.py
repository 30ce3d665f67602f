"""The quality statistics core: pure Python on numpy and scipy, no Django (issue 6)."""
