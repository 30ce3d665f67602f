import itertools
from decimal import Decimal

import pytest

from opentic.lims.lifecycle import SampleState, TransitionError, check, results_allowed
from opentic.numerics.reporting import BelowLoq, Reporting, formatted

D = Decimal


def test_the_normal_path_and_refusals_with_clear_messages() -> None:
    path = ["registered", "received", "in_testing", "to_be_verified", "verified", "reported"]
    for old, new in itertools.pairwise(path):
        check(old, new)
    with pytest.raises(TransitionError, match="“已登记”后不能变为“检测中”"):
        check("registered", "in_testing")
    with pytest.raises(TransitionError, match="必须说明理由"):
        check("registered", "rejected")
    check("registered", "rejected", "样品包装破损")
    with pytest.raises(TransitionError, match="可以变为:无"):
        check("rejected", "received")
    with pytest.raises(TransitionError, match="未知"):
        check("registered", "lost")
    assert not results_allowed(SampleState.REGISTERED) and results_allowed(SampleState.IN_TESTING)
    assert not results_allowed(SampleState.VERIFIED)  # verified results are locked


def test_reported_values() -> None:
    lead = Reporting(places=3, loq=D("0.010"), lod=D("0.004"))
    assert formatted(D("0.04250"), lead) == "0.042"  # GB/T 8170: exactly half, even retained digit
    assert formatted(D("0.0425001"), lead) == "0.043"
    assert formatted(D("0.0099"), lead) == "<0.010"
    nd = Reporting(places=3, loq=D("0.010"), lod=D("0.004"), below_loq=BelowLoq.NOT_DETECTED)
    assert formatted(D("0.002"), nd) == "未检出（<0.004）"
    # a limit as the database stores it (ten places) is written to the reported places, not as stored
    stored = Reporting(3, D("0.0050000000"))
    assert formatted(D("0.001"), stored) == "<0.005"
    assert formatted(D("0.001"), Reporting(2, D("0.0025000000"))) == "<0.0025"
    assert formatted(D("1234.5"), Reporting(places=0)) == "1234"
    assert formatted(D("1E+1"), Reporting(places=1)) == "10.0"
