"""zoo validate README.md: every error a published card proves about itself, on its line, and no error where
the card can be explained (constructed cards; the published ones are a scenario in test_real_artifacts.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from zoo.cli import main
from zoo.review.review import review_text
from zoo.verification.rules.base import RULES

HEAD = "# M\n\n## **Use case** : `{use_case}`\n\n# Model description\n\n{prose}\n\n"
MEMORY = ("### Reference **MCU** memory footprint based on {dataset} dataset\n\n"
          "| Model | Format | Resolution | Series | Activation RAM (KiB) | Runtime RAM (KiB) | Weights Flash (KiB) "
          "| Code Flash (KiB) | Total RAM ({total}) | Total Flash (KiB) | STEdgeAI Core version |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|\n")
TIME = ("### Reference **MCU** inference time based on {dataset} dataset\n\n"
        "| Model | Format | Resolution | Board | Execution Engine | Inference time (ms) | Inf / sec | STEdgeAI Core version |\n"
        "|---|---|---|---|---|---|---|---|\n")
LINK = "[{label}](./ST_pretrainedmodel_public_dataset/{dataset}/{stem}/{stem}{suffix})"


def card(*, use_case: str = "Image classification", prose: str = "A small model.", dataset: str = "food101",
         total: str = "KiB", memory: list[str] = (), time: list[str] = (), tail: str = "") -> str:
    text = HEAD.format(use_case=use_case, prose=prose)
    text += ("## Network inputs / outputs\n\n| Input Shape | Description |\n| --- | --- |\n| (1, 224, 224, 3) | RGB "
             "UINT8 |\n\n| Output Shape | Description |\n| --- | --- |\n| (1, 101) | per-class confidence FLOAT32 |\n\n")
    if memory:
        text += MEMORY.format(dataset=dataset, total=total) + "\n".join(memory) + "\n\n"
    if time:
        text += TIME.format(dataset=dataset) + "\n".join(time) + "\n\n"
    return text + tail


def link(label: str = "M 224", stem: str = "m_224_tfs", suffix: str = "_int8.tflite", dataset: str = "food101") -> str:
    return LINK.format(label=label, dataset=dataset, stem=stem, suffix=suffix)


def mem(total_ram: str = "110.5", total_flash: str = "330.75", unit: str = "", res: str = "224x224x3", **kw: str) -> str:
    return (f"| {link(**kw)} | Int8 | {res} | STM32H7 | 100.25{unit} | 10.25{unit} | 300.5{unit} | 30.25{unit} | "
            f"{total_ram}{unit} | {total_flash}{unit} | 4.0.0 |")


def tim(ms: str = "190.3", rate: str = "5.3", engine: str = "1 CPU", res: str = "224x224x3", **kw: str) -> str:
    return f"| {link(**kw)} | Int8 | {res} | STM32H747I-DISCO | {engine} | {ms} | {rate} | 4.0.0 |"


def errors(text: str) -> list[tuple[int, str]]:
    return [(f.line, f.rule) for f in review_text("README.md", text) if f.severity == "error"]


def line_of(text: str, needle: str, nth: int = 0) -> int:
    return [n for n, line in enumerate(text.splitlines(), 1) if needle in line][nth]


def test_a_consistent_card_has_no_error() -> None:
    text = card(memory=[mem()], time=[tim()])  # 190.3 ms prints 5.3 inf/s in the published cards: no error
    assert errors(text) == []


def test_totals_against_their_parts_at_the_printed_precision() -> None:
    text = card(memory=[mem(total_flash="330.57"), mem(total_ram="110.5", label="M 224 b", stem="m_224_b")])
    assert errors(text) == [(line_of(text, "330.57"), "readme.total")]
    kb = card(total="kB", memory=[mem()])  # a kB column holding the KiB sum of KiB parts
    assert errors(kb) == [(line_of(kb, "110.5"), "readme.unit")]
    # every row of the column shows it: the header is what is wrong, one error there
    kb2 = card(total="kB", memory=[mem(), mem(label="M 224 b", stem="m_224_b")])
    assert errors(kb2) == [(line_of(kb2, "Total RAM (kB)"), "readme.unit")]


def test_a_rate_no_time_in_its_rounding_gives() -> None:
    text = card(time=[tim(ms="26.39", rate="36.5"), tim(ms="28.80", rate="34.72", label="M b"),
                      tim(ms="34.71", rate="28.80", label="M c")])
    # 1000/28.80 = 34.72 holds; 1000/34.71 = 28.81, and 28.80 keeps its 2 digits (+-0.005, not +-0.05)
    assert errors(text) == [(line_of(text, "26.39"), "readme.rate"), (line_of(text, "34.71"), "readme.rate")]


def test_links_citations_and_arxiv_ids() -> None:
    prose = ("Data: [link](([WISDM](\"https://www.cis.fordham.edu/wisdm/dataset.php\"))) and Quotation[[3]](#3).\n\n"
             "See [paper[1]](#1) and [COCO](https://www.image-net.org/) and https://arxiv.org/abs/1905.0095 .\n\n"
             "[ResNet](https://arxiv.org/abs/1512.03385) and [MobileNetV2](https://arxiv.org/abs/1512.03385).\n\n"
             "<a id=\"1\">[1]</a> A paper. https://arxiv.org/abs/cs/0112017\n\n"
             "Repository: [https://github.com/o/r]https://github.com/o/r)\n")
    text = card(prose=prose)
    assert errors(text) == [(line_of(text, "WISDM"), "readme.citation"), (line_of(text, "WISDM"), "readme.link"),
                            (line_of(text, "COCO"), "readme.arxiv"), (line_of(text, "COCO"), "readme.link"),
                            (line_of(text, "MobileNetV2"), "readme.arxiv"), (line_of(text, "MobileNetV2"), "readme.link"),
                            (line_of(text, "Repository"), "readme.link")]


def test_reference_anchors_are_no_titles_and_end_at_the_next_reference() -> None:
    refs = ("<a id=\"1\">[1]</a> - **Dataset**: Imagenet (ILSVRC 2012) — https://www.image-net.org/\n\n"
            "<a id=\"2\">[2]</a> - **Model**: M — https://arxiv.org/abs/2601.05364\n")
    assert errors(card(prose="(source: https://arxiv.org/abs/2601.05364)", tail=refs)) == []
    two = card(tail='<a id="1">[1]</a> "Deep Residual Learning for Images" https://arxiv.org/abs/1512.03385\n\n'
                    '<a id="2">[2]</a> "Searching for MobileNetV3 models" https://arxiv.org/abs/1512.03385\n')
    assert errors(two) == [(line_of(two, "Searching"), "readme.arxiv")]  # one id under two titles is still found


def test_a_licence_link_naming_one_licence_and_opening_another() -> None:
    text = card(prose="License [CC0 4.0](https://creativecommons.org/licenses/by/4.0/), "
                      "[CC BY 4.0](https://creativecommons.org/licenses/by/4.0/legalcode), "
                      "[CC0 1.0](https://creativecommons.org/publicdomain/zero/1.0/), "
                      "[CC BY-SA 4.0](https://creativecommons.org/licenses/by-sa/4.0/) and [License](http://x.org/l.html).")
    assert errors(text) == [(line_of(text, "CC0 4.0"), "readme.link")]


def test_a_link_naming_one_paper_and_opening_another() -> None:
    text = card(prose="Papers: [ResNet](https://arxiv.org/abs/1801.04381), [MobileNet v2](https://arxiv.org/pdf/1801.04381.pdf), "
                      "[MobileNet](https://arxiv.org/abs/1704.04861).")
    assert errors(text) == [(line_of(text, "Papers"), "readme.arxiv"), (line_of(text, "Papers"), "readme.link")]
    assert errors(card(prose="[ResNet paper](https://arxiv.org/abs/1512.03385) and [PreResNet](https://arxiv.org/abs/1603.05027)")) == []


def test_format_and_precision_against_the_linked_file() -> None:
    rows = [tim(label="A"), tim(label="B", stem="b_224", suffix="_qdq_int8.onnx").replace("Int8", "FP32"),
            tim(label="C", stem="c_224", suffix="_qdq_int8.onnx").replace("Int8", "W4A8"),
            tim(label="D", stem="d_224", suffix="_int8.tflite").replace("Int8", "Float32"),
            tim(label="E", stem="e_224", suffix="_int8.onnx").replace("Int8", "TensorFlow Lite"),
            tim(label="F", stem="f_224", suffix="_qdq_w4_78.84%_w8_21.16%_a8_100%_map_47.33.onnx").replace("Int8", "W4A8")]
    text = card(time=rows)
    assert errors(text) == [(line_of(text, f"[{x}]"), "readme.format") for x in "BCDE"]
    onnx = card(prose="The model is quantized using ONNX quantization tools.", time=[tim()])
    assert errors(onnx) == [(line_of(onnx, "ONNX"), "readme.format")]


def test_resolution_against_the_file_name_and_other_rows() -> None:
    text = card(memory=[mem(res="640x640x3", stem="y_256_quant", suffix=".tflite"), mem(res="224x224x", label="B")],
                time=[tim(res="96x96x3", label="M", stem="m_tfs"), tim(label="M", stem="m_tfs"),
                      tim(label="M", stem="m_tfs")])
    assert errors(text) == [(line_of(text, "640x640x3"), "readme.resolution"), (line_of(text, "224x224x |"), "readme.resolution"),
                            (line_of(text, "96x96x3"), "readme.resolution")]
    fine = card(memory=[mem(res="256x128x3", stem="m_a035_256_128_fft"), mem(res="24x3x1", stem="ign_wl_24", label="I")])
    assert errors(fine) == []


def test_datasets_of_headings_rows_and_files() -> None:
    text = card(dataset="COCO", memory=[mem(dataset="coco_person")], time=[tim(dataset="pascal_voc")])
    assert errors(text) == [(line_of(text, "pascal_voc"), "readme.dataset")]
    esc = card(dataset="ESC-10", memory=[mem(dataset="esc10")])
    assert errors(esc) == []
    # one file whose dataset cell says COCO in one table and COCO-Person in the other contradicts itself
    head = "| Model | Dataset | Format | Resolution | Inference time (ms) |\n|---|---|---|---|---|\n"
    two = (f"### Memory\n\n{head}| {link(dataset='coco')} | COCO | Int8 | 224x224x3 | 1 |\n\n"
           f"### Time\n\n{head}| {link(dataset='coco')} | COCO-Person | Int8 | 224x224x3 | 1 |\n")
    assert errors(card(tail=two)) == [(line_of(card(tail=two), "COCO-Person"), "readme.dataset")]
    assert errors(card(tail=two.replace("COCO-Person", "coco"))) == []
    # a dataset cell that its own file's folder contradicts (food-10 for a food-101 file) is wrong on that row
    cut = (f"### Memory\n\n{head}| {link(dataset='food-101')} | food-10 | Int8 | 224x224x3 | 1 |\n\n"
           f"### Time\n\n{head}| {link(dataset='food-101')} | food-101 | Int8 | 224x224x3 | 1 |\n")
    assert errors(card(tail=cut)) == [(line_of(card(tail=cut), "| food-10 |"), "readme.dataset")]
    assert errors(card(tail=cut.replace("| food-10 |", "| Food101 |"))) == []
    # a heading every row of its table contradicts is the wrong one: one finding, on the heading
    wrong = card(dataset="Flowers", time=[tim(dataset="cifar10"), tim(label="B", stem="b_224", dataset="cifar10")])
    assert errors(wrong) == [(line_of(wrong, "based on Flowers"), "readme.dataset")]


def test_row_labels_typos_and_missing_variants() -> None:
    text = card(memory=[mem(label="YOLO11n"), mem(label="B", stem="b_224")],
                time=[tim(label="YOLOv11n")], tail="### Accuracy\n\n| Model | Top 1 Accuracy |\n|---|---|\n"
                f"| {link(label='YOLO11n')} | 70 % |\n| {link(label='B', stem='b_224')} | 71 % |\n")
    found = errors(text)
    assert (line_of(text, "[YOLOv11n]"), "readme.label") in found  # one file, a typo: a second model
    tie = card(memory=[mem(label="DeepLabV3 M"), mem(label="B", stem="b_224")], time=[tim(label="DDeepLabv3 M"),
               tim(label="b", stem="b_224")])  # a tie: the later label is the odd one; case alone is no second model
    assert [f for f in errors(tie) if f[1] == "readme.label"] == [(line_of(tie, "[DDeepLabv3 M]"), "readme.label")]
    assert (line_of(text, "| Model | Format | Resolution | Board"), "readme.label") in found  # B has no time row


def test_two_model_sizes_with_one_multiplier() -> None:
    rows = [mem(label="MobileNet v2 0.35 fft", stem="mobilenetv2_a035_224_fft"),
            mem(label="MobileNet v2 0.35 fft b", stem="mobilenetv2_a100_224_fft")]
    text = card(memory=rows)
    assert errors(text) == [(line_of(text, "a100"), "readme.label")]


def test_units_written_twice_and_counts_in_millions() -> None:
    tail = "| Network Information | Value |\n|---|---|\n| MParams | 3,064 |\n"
    text = card(memory=[mem(total_ram="110.5 KiB KiB")], tail=tail)
    assert errors(text) == [(line_of(text, "KiB KiB"), "readme.unit"), (line_of(text, "3,064"), "readme.unit")]


def test_contradictions_and_io() -> None:
    text = card(use_case="Object detection", prose="Y is a model designed for instance segmentation tasks.",
                time=["| " + link() + " | Int8 | 224x224x3 | STM32MP257F-DK2 | 2 CPU | 0.87 | | 4.0.0 |"])
    text = text.replace("| Inference time (ms) | Inf / sec |", "| Inference time (ms) | %NPU |").replace("| 0.87 | |", "| 0.87 | 64.23 |")
    assert errors(text) == [(line_of(text, "instance segmentation"), "readme.contradiction"),
                            (line_of(text, "2 CPU"), "readme.contradiction")]
    reid = card(use_case="Re-Identification")
    assert errors(reid) == [(line_of(reid, "per-class"), "readme.io")]
    prose_only = HEAD.format(use_case="Re-Identification", prose="It outputs a 128-d embedding.")
    assert errors(prose_only) == [] and [f.rule for f in review_text("R.md", prose_only)] == ["readme.io"]


def test_parameters_that_cannot_fit_the_weights_flash() -> None:
    tail = "| Network Information | Value |\n|---|---|\n| MParams alpha=0.35 | 1.66 M |\n"
    text = card(memory=[mem(label="M 0.35")], tail=tail)
    assert errors(text) == [(line_of(text, "1.66 M"), "readme.parameters")]
    assert errors(card(memory=[mem(label="M 0.35")], tail=tail.replace("1.66 M", "0.3 M"))) == []


def test_links_into_another_use_case() -> None:
    row = tim().replace("./ST_pretrainedmodel_public_dataset/food101", "../../pose_estimation/yolo")
    pose_file = tim(label="P", stem="yolov8n_224_quant_pc_uf_pose_coco-st", suffix=".tflite")
    text = card(use_case="Object detection", time=[row, pose_file],
                tail="Retrain with the [Ultralytics documentation](https://docs.ultralytics.com/tasks/pose/#train).\n")
    assert errors(text) == [(line_of(text, "pose_estimation"), "readme.use_case"), (line_of(text, "_pose_"), "readme.use_case")]
    assert [(f.line, f.severity) for f in review_text("R.md", text) if f.rule == "readme.use_case"][-1] == (
        line_of(text, "tasks/pose"), "warning")  # a page in prose may be a pointer: a warning


def test_a_label_typo_is_found_whether_or_not_the_link_starts_with_dot_slash() -> None:
    # two rows, one with "./" and one without: one file; the label the file name spells is the right one
    typo = mem(label="m_242_tfs", stem="m_224_tfs").replace("](./ST_", "](ST_")
    text = card(memory=[typo], time=[tim(label="m_224_tfs", stem="m_224_tfs")])
    assert errors(text) == [(line_of(text, "m_242_tfs"), "readme.label")]
    renamed = card(memory=[mem(label="Model A", stem="m_224_tfs").replace("](./ST_", "](ST_")],
                   time=[tim(label="m_224_tfs", stem="m_224_tfs")])
    assert errors(renamed) == [] and [f.severity for f in review_text("R.md", renamed) if f.rule == "readme.label"] == [
        "warning"]  # two different names for one file: not provably a typo


def test_a_channels_first_size_is_the_same_input_and_ssdlite_cites_mobilenetv2() -> None:
    ap = "### AP\n\n| Model | Format | Resolution | AP50 |\n| --- | --- | --- | --- |\n" + f"| {link()} | Int8 | 3x224x224 | 35.78 |\n"
    assert errors(card(memory=[mem()], tail=ap)) == []  # PyTorch's CxHxW of the same 224x224 input
    wrong = card(memory=[mem()], tail=ap.replace("3x224x224", "3x192x192"))
    assert errors(wrong) == [(line_of(wrong, "3x192x192"), "readme.resolution")]
    cited = card(prose="Paper: [SSDLite](https://arxiv.org/abs/1801.04381), [SSD](https://arxiv.org/abs/1801.04381).")
    assert errors(cited) == [(line_of(cited, "[SSD]"), "readme.link")]
    assert [f.message for f in review_text("R.md", cited) if f.rule == "readme.link"][0].startswith(
        "[SSD] opens arXiv 1801.04381, which is mobilenetv2's paper")


def test_quantization_granularity_against_the_file_name() -> None:
    head = "### MPU\n\n| Model | Format | Resolution | Quantization | Inference time (ms) |\n|---|---|---|---|---|\n"
    rows = [f"| {link(stem='m_224', suffix='_int8_pc.tflite')} | Int8 | 224x224x3 | per-channel** | 9.4 |",
            f"| {link(stem='m_224', suffix='_int8_pt.tflite')} | Int8 | 224x224x3 | per-tensor | 7.9 |",
            f"| {link(stem='m_224', suffix='_int8_pc.tflite')} | Int8 | 224x224x3 | per-tensor | 8.0 |",
            f"| {link(stem='m_pt_224', suffix='_qdq_int8.onnx')} | Int8 | 224x224x3 | per-channel | 8.1 |"]
    text = card(tail=head + "\n".join(rows) + "\n")
    assert errors(text) == [(line_of(text, "| per-tensor | 8.0"), "readme.format")]  # _pt of PyTorch is no per-tensor


def test_a_sentence_naming_both_quantization_tools_is_no_contradiction() -> None:
    onnx = card(memory=[mem(suffix="_qdq_int8.onnx")], prose="The models are quantized using tensorflow lite converter.")
    assert errors(onnx) == [(line_of(onnx, "tensorflow lite converter"), "readme.format")]
    both = onnx.replace("tensorflow lite converter.", "tensorflow lite converter or ONNX quantizer.")
    assert errors(both) == []


def test_a_row_broken_over_two_lines_is_not_read_as_a_model() -> None:
    head = "### Time based on COCO dataset\n\n| Model | Dataset | Format | Board | Execution Engine | Inference time (ms) |\n|---|---|---|---|---|---|\n"
    broken = (f"| {link(dataset='coco')} | COCO | Int8 | STM32N6570-DK | NPU/MCU | 5.99 |\n"
              f"| {link(label='B', stem='b_224', dataset='coco')} | COCO | \nSTM32N6570-DK | NPU/MCU | 17.99 |\n")
    text = card(tail=head + broken)
    assert errors(text) == []  # "NPU/MCU" on the continuation line is no dataset


def test_a_model_missing_from_one_table_is_the_file_its_rows_link() -> None:
    acc = "### Accuracy\n\n| Model | Format | Resolution | Top 1 Accuracy |\n|---|---|---|---|\n"
    rows = [tim(label="A", stem="a_224"), tim(label="B", stem="b_224")]
    short = acc + "\n".join(f"| {link(label=n, stem=s)} | Int8 | 224x224x3 | 70 % |" for n, s in (("A", "a_224"), ("B short", "b_224")))
    text = card(memory=[mem(label="A", stem="a_224")], time=rows, tail=short + "\n")
    assert errors(text) == [(line_of(text, "| Model | Format | Resolution | Series"), "readme.label")]  # B has no memory row


def test_every_finding_names_a_registered_rule() -> None:
    text = card(memory=[mem(total_flash="1")], time=[tim(rate="9")])
    assert {f.rule for f in review_text("R.md", text)} <= set(RULES)


def test_validate_reviews_a_readme_in_memory(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(card(memory=[mem(total_flash="330.57")], time=[tim()]))
    before = sorted(tmp_path.iterdir())
    assert main(["validate", "--json", str(readme)]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out == {"findings": [{"file": str(readme), "line": line_of(readme.read_text(), "330.57"), "severity": "error",
                                 "rule": "readme.total", "message": out["findings"][0]["message"]}]}
    assert sorted(tmp_path.iterdir()) == before  # nothing written
    readme.write_text(card(memory=[mem()]))
    assert main(["validate", str(readme)]) == 0


def test_an_imported_card_brings_the_findings_of_its_source_on_the_sources_lines(tmp_path: Path, monkeypatch,
                                                                              capsys: pytest.CaptureFixture) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "up").mkdir()
    source = tmp_path / "up" / "m.md"
    source.write_text(card(memory=[mem(total_flash="330.57")]))
    assert main(["import-card", "up/m.md", "-o", "out/m/"]) == 0
    capsys.readouterr()
    assert main(["validate", "--json", "out/m/card.yaml"]) == 1
    reviewed = [f for f in json.loads(capsys.readouterr().out)["findings"] if f["rule"] == "readme.total"]
    assert [(f["file"], f["line"]) for f in reviewed] == [("up/m.md", line_of(source.read_text(), "330.57"))]
    (tmp_path / "inplace").mkdir()
    (tmp_path / "inplace" / "README.md").write_text(source.read_text())
    assert main(["import-card", "inplace/README.md"]) == 0  # in place: the source becomes the rendered README
    capsys.readouterr()
    main(["validate", "--json", "inplace/card.yaml"])
    assert not [f for f in json.loads(capsys.readouterr().out)["findings"] if f["rule"].startswith("readme.")]


@pytest.mark.parametrize("text", ["", "|", "| a |\n|---|\n", "\x00\xff" * 50, "[x](" * 200, "| Model | Inf / sec |\n|-|-|\n| a | 1e999 |",
                                  "[[[[1]]]](#", "| Model | Resolution |\n|-|-|\n| [a](x_256.tflite) | 0x0 |"])
def test_no_traceback_on_odd_cards(text: str) -> None:
    review_text("odd.md", text)
