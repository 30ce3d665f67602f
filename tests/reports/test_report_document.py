"""The report as a CMA lab manager signs it, read back from the PDF (pdftotext, pdftoppm): ISO/IEC 17025
7.8.2.1 and 7.8.3, the conclusion and its basis, three roles, seal over the date, CMA mark, typesetting."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from django.core import checks
from PIL import Image

from opentic.ledger import services as ledger
from opentic.lims.models import Order
from opentic.reports import marks, services, twin
from opentic.reports.models import Report
from tests.conftest import PASSWORD
from tests.lims.fixtures import Lab
from tests.reports.document import page_count, page_images, pdf_text, supervision_sample
from tests.reports.test_reports import make_signatory

HALF_WIDTH_IN_CHINESE = re.compile(r"[\u4e00-\u9fff][:,;()]|[:,;()][\u4e00-\u9fff]")


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def red_pixels(image: Image.Image, box: tuple[int, int, int, int]) -> int:
    pixels = np.asarray(image.convert("RGB").crop(box)).astype(int)
    return int(((pixels[..., 0] > 150) & (pixels[..., 1] < 110) & (pixels[..., 2] < 110)).sum())


def word_boxes(pdf: Path, page: int) -> list[tuple[str, float, float, float, float]]:
    """Words of a page with their boxes in PDF points (pdftotext -bbox)."""
    html = subprocess.run(["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout
    return [(w, float(a), float(b), float(c), float(d)) for a, b, c, d, w in re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', html)]


@pytest.mark.django_db
def test_the_report_prints_everything_a_cma_report_must(lab: Lab, settings: object, tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    make_signatory(lab)
    sample = supervision_sample(lab, subcontracted="镉")
    report = services.issue_report(lab.world.a_signatory, sample, PASSWORD)
    pdf = bytes(report.pdf)
    pages = page_count(pdf, tmp_path)
    for page in range(1, pages + 1):  # the number and "page x of y" on every page
        text = flat(pdf_text(pdf, tmp_path, page))
        assert f"报告编号：{report.number}" in text and f"第{page}页共{pages}页" in text, page
    layout = pdf_text(pdf, tmp_path)
    text = flat(layout)
    for expected in (
            "检验检测报告", "重庆江津检测有限公司", "检测地点", "委托方重庆粮油集团有限公司", "委托单号",
            "检验类别监督抽检", "样品名称五常大米", "样品编号", sample.lab_number, "样品描述袋装，白色颗粒",
            "样品状态包装完好，常温", "收样日期", "检测日期", "签发日期",
            "GB5009.12-2017《食品安全国家标准食品中铅的测定》",
            # the sampling block (监督抽检: the lab sampled)
            "抽样信息", "抽样日期2026年11月28日", "抽样人王强、刘洋", "抽样地点江津区几江街道粮油市场",
            "被抽样单位重庆几江粮油经营部", "标称生产企业五常市金禾米业有限公司", "商标金禾", "规格型号5kg/袋",
            "生产日期/批号2026年10月15日/JH20261015", "样品数量2袋（500g）",
            # the conclusion, what it is judged by, and how
            "检验结论：经检验，所检项目不符合GB2762-2022要求。不合格项目：铅。",
            "判定依据：GB2762-2022《食品安全国家标准食品中污染物限量》", "判定规则：简单接受规则（ILAC-G8",
            # results with units, LOQ, limit and the single-item judgement, the subcontracted item marked
            "定量限", "限量要求", "单项判定", "0.250", "0.010mg/kg", "≤0.2mg/kg", "不符合", "镉△",
            "经委托方同意，分包给重庆市计量质量检测研究院检测", "检测结果仅对所检样品（项目）负责",
            # three roles
            "编制（主检）", "审核", "批准", "a-analyst", "a-reviewer", "张伟（授权签字人，食品）",
            "报告结束", "以下空白"):
        assert expected in text, expected
    # Items in registration order: 镉 was asked for first.
    assert [line["parameter"] for line in report.twin["results"]] == ["镉", "铅"]
    assert text.index("镉△GB5009.15") < text.index("铅GB5009.12")
    # Full-width punctuation in Chinese text; no date or value broken from its unit across lines.
    assert not HALF_WIDTH_IN_CHINESE.findall(text), HALF_WIDTH_IN_CHINESE.findall(text)
    for line in layout.splitlines():
        assert not re.search(r"20\d\d年(\d+月?)?\s*$", line), line  # a date cut at the line's end
        assert not re.search(r"[≤≥]\s*$", line) and not re.match(r"\s*mg/kg", line), line
    assert re.search(r"≤\s0\.2\smg/kg", layout) and re.search(r"0\.010\smg/kg", layout)
    assert "2026年11月28日" in layout and re.search(r"2\s袋（500\sg）", layout)
    # The CMA mark is a graphic (no "CMA" text), with the certificate number under it.
    assert "CMA" not in text and lab.world.lab_a.cma_number in text


@pytest.mark.django_db
def test_the_twin_carries_the_conclusion_basis_sampling_block_and_roles(lab: Lab, settings: object,
                                                                         tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    make_signatory(lab)
    report = services.issue_report(lab.world.a_signatory, supervision_sample(lab), PASSWORD)
    data = Report.objects.get(pk=report.pk).twin
    assert data["conclusion"] == {"verdict": "nonconform", "basis": ["GB 2762-2022"], "failed": ["铅"],
                                  "text": "经检验，所检项目不符合 GB 2762-2022 要求。不合格项目：铅。", "unjudged": []}
    assert data["basis"] == [{"name": "GB 2762-2022", "title": "食品安全国家标准 食品中污染物限量"}]
    assert data["decision_rule"]["code"] == "simple" and "ILAC-G8" in data["decision_rule"]["text"]
    assert data["kind"] == Order.Kind.SUPERVISION and data["sampled_by_lab"] is True
    assert data["sampling"]["sampled_on"] == "2026年11月28日" and data["sampling"]["sampler"] == "王强、刘洋"
    assert data["sampling"]["production_date"] == "2026年10月15日" and data["sampling"]["quantity"] == "2 袋（500 g）"
    lead = data["results"][1]
    assert (lead["limit"], lead["conformity"], lead["loq"]) == ("≤ 0.2 mg/kg", "fail", "0.010 mg/kg")
    assert [p["name"] for p in data["prepared_by"]] == ["a-analyst"]
    assert [p["name"] for p in data["reviewed_by"]] == ["a-reviewer"]
    assert data["approved_by"]["name"] == "张伟" and data["approved_by"]["fields"] == "食品"
    assert data["demo"] is True  # the default public address is a demo's


@pytest.mark.django_db
def test_the_qr_lookup_shows_the_conclusion_and_judgements_in_the_words_printed(lab: Lab, settings: object,
                                                                              tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    make_signatory(lab)
    report = services.issue_report(lab.world.a_signatory, supervision_sample(lab), PASSWORD)
    content = ledger.verify_code(report.number, report.code).content
    assert content is not None
    # The twin keeps the conclusion as a dict and each line's outcome as a code; the reader reads words.
    assert content["conclusion"] == "经检验，所检项目不符合 GB 2762-2022 要求。不合格项目：铅。"
    assert content["basis"] == "GB 2762-2022"
    judged = [(line["parameter"], line["conformity"]) for line in content["results"]]
    assert judged == [("镉", "符合"), ("铅", "不符合")]
    # A twin written before the report rewrite (conclusion as text, judgements in words) still reads.
    old = {**report.twin, "conclusion": "所检项目不符合要求。", "basis": "",
           "results": [{**{k: v for k, v in line.items() if k != "conformity_label"},
                        "conformity": line["conformity_label"]} for line in report.twin["results"]]}
    Report.objects.filter(pk=report.pk).update(twin=old)
    content = ledger.verify_code(report.number, report.code).content
    assert content is not None and content["conclusion"] == "所检项目不符合要求。"
    assert [line["conformity"] for line in content["results"]] == ["符合", "不符合"]


@pytest.mark.django_db
def test_a_commission_without_basis_reports_results_only_and_no_sampling_block(lab: Lab) -> None:
    make_signatory(lab)
    sample = supervision_sample(lab, kind=Order.Kind.COMMISSION)
    order = sample.order
    order.client.contact, order.client.phone = "陈静", "023-68000000"
    data = twin.build(sample, "X-1", "A" * 22, lab.world.a_signatory, ["食品"], order.created_at, None, "")
    html = services._html(data, None)
    assert data["sampled_by_lab"] is False and "抽样信息" not in html and "抽样人" not in html
    assert "标称生产企业" in html  # what the client said of the product is still printed
    assert "联系人及电话</td><td colspan=\"3\">陈静　023-68000000" in html  # 7.8.2.1 d)
    assert "检验结论：" in html and "不合格项目：铅" in html
    sample.specification = ""
    data = twin.build(sample, "X-1", "A" * 22, lab.world.a_signatory, ["食品"], order.created_at, None, "")
    assert data["conclusion"]["verdict"] == "results_only" and data["basis"] == [] and not data["decision_rule"]
    assert "本报告仅提供检测结果，不作符合性判定。" in services._html(data, None)
    assert "CMA" in html and "不在本机构资质认定范围内" not in html
    sample.analyses.filter(service=lab.cd).update(accredited=False)  # an item outside the scope: marked, no mark
    data = twin.build(sample, "X-1", "A" * 22, lab.world.a_signatory, ["食品"], order.created_at, None, "")
    html = services._html(data, None)
    assert "镉<sup>*</sup>" in html and "标注“*”的项目不在本机构资质认定范围内" in html
    assert 'alt="CMA"' not in html and "不加盖 CMA 标志" in html


def test_the_drawn_seal_and_the_cma_mark() -> None:
    svg = marks.seal_svg("重庆江津检测有限公司", size=200)
    star = re.search(r'<polygon points="([^"]+)"', svg)
    assert star is not None and len(star[1].split()) == 10  # five points, five notches
    xs = [float(p.split(",")[0]) for p in star[1].split()]
    assert abs((min(xs) + max(xs)) / 2 - 100) < 1  # centred
    assert re.search(r'<circle cx="100.0" cy="100.0" r="9\d', svg) and 'stroke="#d3151b"' in svg
    glyphs = re.findall(r'<text x="([\d.]+)" y="([\d.]+)" transform="rotate\(([-\d.]+)[^>]*>(.)</text>', svg)
    assert "".join(g[3] for g in glyphs) == "重庆江津检测有限公司"
    assert all(float(y) < 100 for _, y, angle, _ in glyphs if abs(float(angle)) < 90)  # along the upper arc
    assert [float(g[2]) for g in glyphs] == sorted(float(g[2]) for g in glyphs)  # read left to right
    across = re.search(r'<text x="100.0" y="([\d.]+)"[^>]*>检验检测专用章</text>', svg)
    assert across is not None and float(across[1]) > 100  # straight across, under the star
    cma = marks.cma_svg()
    assert cma.count("<path") == 3 and "<text" not in cma  # three drawn letters, not a font's


@pytest.mark.django_db
def test_the_seal_overlaps_the_issue_date_and_the_cma_mark_is_drawn(lab: Lab, settings: object,
                                                                      tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    make_signatory(lab)
    report = services.issue_report(lab.world.a_signatory, supervision_sample(lab), PASSWORD)
    path = tmp_path / "r.pdf"
    path.write_bytes(bytes(report.pdf))
    pages = page_count(bytes(report.pdf), tmp_path)
    dpi = 72  # one pixel per PDF point, so pdftotext's boxes index the image
    images = page_images(bytes(report.pdf), tmp_path, dpi=dpi)
    last = Image.open(images[-1])
    date = [w for w in word_boxes(path, pages) if "签发日期" in w[0]]
    assert date, "no issue date on the last page"
    _, x0, y0, x1, y1 = date[0]
    assert red_pixels(last, (int(x0), int(y0) - 20, int(x1) + 60, int(y1) + 20)) > 300  # the seal over it
    for page in range(1, pages + 1):  # every table fits the A4 width inside its 16 mm margins
        assert max(w[3] for w in word_boxes(path, page)) <= 595.3 - 16 * 72 / 25.4 + 1, page
    first = Image.open(images[0])
    title = next(w for w in word_boxes(path, 1) if "检验检测报告" in w[0] or w[0] == "检")
    assert red_pixels(first, (0, 0, first.width // 3, int(title[2]))) > 400  # the mark, top left


@pytest.mark.django_db
def test_the_public_address_comes_from_the_setting_and_a_demo_says_so(lab: Lab, settings: object,
                                                                        tmp_path: Path) -> None:
    from opentic.reports.checks import public_url

    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    make_signatory(lab)
    assert [m.id for m in public_url()] == ["opentic.reports.E001"]  # `check --deploy` fails on the default
    demo = services.issue_report(lab.world.a_signatory, supervision_sample(lab), PASSWORD)
    assert "演示环境" in flat(pdf_text(bytes(demo.pdf), tmp_path))
    settings.OPENTIC_PUBLIC_URL = "https://jc.scjgj.cq.gov.cn"  # type: ignore[attr-defined]
    assert public_url() == []
    assert "opentic.reports.E001" not in [m.id for m in checks.run_checks(include_deployment_checks=True)]
    real = services.issue_report(lab.world.a_signatory, supervision_sample(lab), PASSWORD)
    text = flat(pdf_text(bytes(real.pdf), tmp_path))
    assert "https://jc.scjgj.cq.gov.cn/verify/" in text and "演示环境" not in text and "127.0.0.1" not in text
    assert real.twin["demo"] is False


@pytest.mark.django_db
def test_values_keep_their_units_on_the_printed_page_and_the_twin_keeps_what_was_typed(lab: Lab) -> None:
    make_signatory(lab)
    sample = supervision_sample(lab)
    sample.quantity, sample.description = "500 / g", "净含量 5 kg/袋，2 袋"
    data = twin.build(sample, "X-1", "A" * 22, lab.world.a_signatory, ["食品"], sample.created_at, None, "")
    assert data["sampling"]["quantity"] == "500 / g"  # the record as entered
    html = services._html(data, None)
    assert "500\u00a0/\u00a0g" in html and "5\u00a0kg/袋" in html and "2\u00a0袋" in html
    assert "≤\u00a00.2\u00a0mg/kg" in html and "0.010\u00a0mg/kg" in html
    assert "500 / g" not in html and "≤ 0.2 mg/kg" not in html
