"""Reports: render and sign a 3-page Chinese report, median under 1 s; batch throughput printed per core.

The report is rendered by WeasyPrint with the Noto CJK fonts and signed (PAdES) with pyHanko, as
`reports.services` does, from a twin with 28 result lines (three A4 pages). Baseline, in the same run:
rendering the same HTML without signing.

    python benchmarks/bench_report_render.py
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time

from _common import report, use_database


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    use_database("opentic_bench_reports", False)

    import os

    from django.conf import settings
    from pypdf import PdfReader

    from opentic.reports import pki
    from opentic.reports.services import _render
    from opentic.reports.signing import sign_pdf

    settings.DATA_DIR = tempfile.mkdtemp()
    twin = {
        "number": "0001-2026-00001", "code": "A" * 22, "lab_name": "重庆江津检测有限公司",
        "lab_address": "重庆市江津区几江街道", "credit_code": "91500116MA5U7K3T2R", "cma_number": "212212050001",
        "accredited": True, "non_accredited": False, "client": "重庆粮油集团有限公司", "order": "WT-2026-0001",
        "kind": "委托检验", "sample_name": "五常大米", "lab_number": "2026-000001", "object": "大米",
        "description": "袋装,5 kg", "condition": "密封完好", "received": "2026年11月20日",
        "test_dates": "2026年11月20日 至 2026年11月22日", "batch_number": "20261101", "sampling_place": "",
        "results": [{"parameter": f"元素 {i}(电感耦合等离子体质谱法)", "method": "GB 5009.268-2016", "unit": "mg/kg",
                     "result": f"0.0{i % 9 + 1}2", "uncertainty": "0.004 (k=2)", "limit": "≤ 0.2 mg/kg",
                     "conformity": "符合", "accredited": True} for i in range(28)],
        "decision_rules": ["简单接受规则(ILAC-G8:09/2019 4.2.1,w = 0)"], "signatory": "张伟",
        "signatory_fields": "食品", "issued": "2026年11月24日", "replaces": "", "amendment_reason": "",
    }
    credential, root = pki.institution_credential("91500116MA5U7K3T2R", "重庆江津检测有限公司"), pki.root()
    pages = len(PdfReader(io.BytesIO(_render(twin))).pages)
    render_only, full = [], []
    for _ in range(args.rounds):
        started = time.perf_counter()
        pdf = _render(twin)
        render_only.append(time.perf_counter() - started)
        started = time.perf_counter()
        sign_pdf(_render(twin), credential, root, "张伟", "批准")
        full.append(time.perf_counter() - started)
    median = statistics.median(full)
    print(f"{pages}-page report: render {statistics.median(render_only) * 1000:.0f} ms, render and sign "
          f"{median * 1000:.0f} ms (median of {args.rounds}); throughput {1 / median:.1f} reports/s per core "
          f"({os.cpu_count()} cores here)")
    del pdf
    report("report_render_sign", median * 1000, "ms (median)", statistics.median(render_only) * 1000,
           "< 1000 ms for 3 pages", median < 1.0 and pages >= 3)


if __name__ == "__main__":
    main()
