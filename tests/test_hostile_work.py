"""Issue 23, kinds 4-7: work that grows faster than its input, malformed golden files, card writing on flow-style,
empty and CRLF cards, and import-card paths that climb out of -o.

Growth is measured as work, not time: the Python lines the planner and the card model execute for an input
and for one four times larger (a linear algorithm does about 4x the work, a quadratic one 16x)."""

from __future__ import annotations

import copy
import json
import random
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings, strategies as st

from zoo.cards.card import load_card, read_card
from zoo.cards.writing import write_records
from zoo.core.errors import ConfigError
from zoo.core.resources import data_dir
from zoo.importer.writing import import_targets
from zoo.model import footprint
from zoo.model.footprint import PlanningGraph, activation_lower_bound, greedy_plan, lifetimes
from zoo.model.goldens import MAX_CASES, check_golden, golden_problem, load_golden

DEMO_MODEL = data_dir("registry") / "mirror" / "osnet_demo" / "osnet_demo_int8.tflite"
DEMO_GOLDEN = data_dir("registry") / "goldens" / "osnet_demo_int8.json"
DEMO_CARD = data_dir("model_cards") / "osnet_demo" / "card.yaml"


def _lines_run(module_file: str, call) -> int:
    """Python lines executed in ``module_file`` while ``call()`` runs: work, independent of the machine's speed."""
    count = 0

    def tracer(frame, event, arg):
        nonlocal count
        if frame.f_code.co_filename != module_file:
            return None
        if event == "line":
            count += 1
        return tracer

    sys.settrace(tracer)
    try:
        call()
    finally:
        sys.settrace(None)
    return count


def _chain(n: int, *, skip: int = 0) -> PlanningGraph:
    """n ops in a chain (tensor i -> op i -> tensor i + 1), every ``skip``-th also reading an older tensor."""
    ops = [("ADD", [i] + ([i - skip] if skip and i >= skip and i % skip == 0 else []), [i + 1]) for i in range(n)]
    return PlanningGraph(ops, [16 * (1 + (i * 7919) % 13) for i in range(n + 1)], set(), [0], [n], [])


@pytest.mark.parametrize("skip", [0, 50])
def test_footprint_planning_work_grows_linearly_with_the_ops(skip: int) -> None:
    """A 20,000-op chain took 35 s: the planner scanned every tensor for every op."""
    def work(n: int) -> int:
        graph = _chain(n, skip=skip)
        return _lines_run(footprint.__file__, lambda: (activation_lower_bound(graph), greedy_plan(graph)))

    small, large = work(1000), work(4000)
    assert large < 6 * small, (small, large)


def _reference_lower_bound(graph: PlanningGraph) -> int:
    """The definition, op by op over every live tensor (the quadratic original)."""
    spans = lifetimes(graph)
    best = 0
    for index, (_, ins, outs) in enumerate(graph.ops):
        live = {t for t, (a, b) in spans.items() if a <= index <= b}
        dying = {t for t in ins if t in live and spans[t][1] == index and t not in graph.outputs}
        made = set(outs) & live
        others = live - dying - made
        held = sum(graph.sizes[t] for t in others) + max(sum(graph.sizes[t] for t in dying),
                                                         sum(graph.sizes[t] for t in made))
        best = max(best, held)
    return best


def _reference_plan(graph: PlanningGraph) -> dict[int, int]:
    spans = lifetimes(graph)
    placed, offsets = [], {}
    for t in sorted(spans, key=lambda t: (-graph.sizes[t], spans[t][0], t)):
        size, (first, last) = graph.sizes[t], spans[t]
        offset = 0
        for p_offset, p_size, _, _ in sorted(p for p in placed if p[2] <= last and first <= p[3]):
            if offset + size <= p_offset:
                break
            offset = max(offset, p_offset + p_size)
        placed.append((offset, size, first, last))
        offsets[t] = offset
    return offsets


@st.composite
def graphs(draw) -> PlanningGraph:
    tensors = draw(st.integers(2, 30))
    ops = []
    for _ in range(draw(st.integers(1, 25))):
        ins = draw(st.lists(st.integers(0, tensors - 1), min_size=1, max_size=3))
        outs = draw(st.lists(st.integers(0, tensors - 1), min_size=1, max_size=2))
        ops.append(("OP", ins, outs))
    sizes = draw(st.lists(st.sampled_from([16, 32, 48, 64, 256, 1024]), min_size=tensors, max_size=tensors))
    constant = set(draw(st.lists(st.integers(0, tensors - 1), max_size=3)))
    inputs = draw(st.lists(st.integers(0, tensors - 1), min_size=1, max_size=2))
    outputs = draw(st.lists(st.integers(0, tensors - 1), min_size=1, max_size=2))
    return PlanningGraph(ops, sizes, constant, inputs, outputs, [])


@settings(max_examples=300, deadline=None)
@given(graphs())
def test_the_linear_planner_gives_the_figures_of_the_definition(graph: PlanningGraph) -> None:
    assert activation_lower_bound(graph) == _reference_lower_bound(graph)
    assert greedy_plan(graph) == _reference_plan(graph)


def _card_text(variants: int) -> str:
    data = yaml.safe_load(DEMO_CARD.read_text())
    template, record = data["variants"][0], data["performance"][0]
    data["variants"] = [{**template, "id": f"v{i}", "label": f"V {i}"} for i in range(variants)]
    data["performance"] = [{**record, "variant": f"v{i}"} for i in range(variants)]
    return yaml.safe_dump(data, sort_keys=False)


def test_card_variant_lookups_are_not_a_scan_per_record(tmp_path: Path) -> None:
    """Importing 5,000 rows took 46 s: every record's variant was found by rebuilding and scanning the list."""
    from zoo.cards import card as card_module
    from zoo.cards.checks import card_problems

    def work(n: int) -> int:
        card = read_card(tmp_path / "card.yaml", text=_card_text(n))
        return _lines_run(card_module.__file__, lambda: ([card.find_variant(f"v{i}") for i in range(n)],
                                                         list(card_problems(card, None))))

    small, large = work(200), work(800)
    assert large < 6 * small, (small, large)


def _golden() -> dict:
    return json.loads(DEMO_GOLDEN.read_text())


def _mutants(seed: int, count: int):
    """Seeded golden files as a careless or hostile pull request writes them."""
    rng = random.Random(seed)
    junk = ["abc", -1, 0, 10_000_000, 1e309, None, [], {}, True, "1", 2.5, [[1]], "int8", float("nan")]
    for _ in range(count):
        doc = _golden()
        for _ in range(rng.randint(1, 3)):
            if not isinstance(doc.get("expected"), list) or not doc["expected"] or not isinstance(doc.get("recipe"), dict):
                break  # an earlier edit replaced what the next one would reach into
            case = rng.randrange(len(doc["expected"]))
            if not doc["expected"][case]:
                break
            output = doc["expected"][case][rng.randrange(len(doc["expected"][case]))]
            kind = rng.randrange(9)
            if kind == 0:
                doc["recipe"]["cases"] = rng.choice(junk)
            elif kind == 1:
                output["dtype"] = rng.choice(["int4", "object", "float128", "", 7, "int8", "uint8", "S10"])
            elif kind == 2:
                output["shape"] = rng.choice([[], [-1], [1, 3], [10**9, 10**9], ["a"], [0], None])
            elif kind == 3:
                i = rng.randrange(len(output["values"]))
                output["values"][i] = rng.choice(junk)
            elif kind == 4:
                del doc["expected"][case][rng.randrange(len(doc["expected"][case]))]
            elif kind == 5:
                del doc["expected"][case]
            elif kind == 6:
                doc["expected"].append(copy.deepcopy(doc["expected"][0]))
            elif kind == 7:
                doc[rng.choice(["recipe", "expected", "golden_version"])] = rng.choice(junk)
            else:
                doc["recipe"]["seed"] = rng.choice(junk)
        yield doc


def test_seeded_golden_files_are_replayed_or_refused_in_one_line(tmp_path: Path) -> None:
    """Issue 23 #5: cases "abc", -1 or 10,000,000, unknown dtypes, wrong shapes, string values and fewer
    outputs than cases gave tracebacks or ran for minutes; each is now a result or one ConfigError line."""
    path = tmp_path / "golden.json"
    outcomes = {"refused": 0, "replayed": 0}
    for doc in _mutants(20261207, 80):
        path.write_text(json.dumps(doc))
        try:
            golden = load_golden(path)
        except ConfigError as exc:
            (line,) = exc.lines()
            assert line.startswith(str(path)) and "\n" not in line
            outcomes["refused"] += 1
            continue
        assert golden["recipe"]["cases"] <= MAX_CASES
        check_golden(DEMO_MODEL, golden)  # a result, passed or not; never an exception
        outcomes["replayed"] += 1
    assert outcomes["refused"] > 40 and outcomes["replayed"] >= 1, outcomes


@pytest.mark.parametrize(("edit", "why"), [
    (lambda d: d["recipe"].update(cases=10_000_000), "cases"),
    (lambda d: d["recipe"].update(cases="abc"), "cases"),
    (lambda d: d["recipe"].update(cases=-1), "cases"),
    (lambda d: d["expected"][0][0].update(dtype="int4"), "dtype"),
    (lambda d: d["expected"][0][0].update(shape=[1, 3]), "shape"),
    (lambda d: d["expected"][0][0]["values"].__setitem__(0, "x"), "numbers"),
    (lambda d: d["expected"][0][0]["values"].__setitem__(0, 1000), "whole numbers from -128 to 127"),
    (lambda d: d["expected"].pop(), "case(s) are stored"),
])
def test_each_kind_of_malformed_golden_names_its_problem(edit, why) -> None:
    doc = _golden()
    edit(doc)
    assert why in (golden_problem(doc) or "")


def test_the_shipped_goldens_pass_their_own_checks() -> None:
    for path in (data_dir("registry") / "goldens").glob("*.json"):
        assert golden_problem(json.loads(path.read_text())) is None, path


def test_a_golden_of_another_model_fails_its_check_instead_of_raising(tmp_path: Path) -> None:
    doc = _golden()
    for case in doc["expected"]:
        case.append(copy.deepcopy(case[0]))  # two outputs; the demo model has one
    assert golden_problem(doc) is None
    result = check_golden(DEMO_MODEL, doc)
    assert not result.passed and result.mismatches > 0


def test_verify_with_a_malformed_golden_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    import subprocess

    registry = tmp_path / "registry"
    registry.mkdir()
    data = yaml.safe_load((data_dir("registry") / "registry.yaml").read_text())
    data["models"] = {"osnet_demo": data["models"]["osnet_demo"]}
    art = data["models"]["osnet_demo"]["artifacts"][0]
    art["golden"] = "golden.json"
    art["sources"] = [str(DEMO_MODEL)]
    data["models"]["osnet_demo"].pop("card", None)
    (registry / "registry.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    doc = _golden()
    doc["recipe"]["cases"] = "abc"
    (registry / "golden.json").write_text(json.dumps(doc))
    done = subprocess.run([sys.executable, "-m", "zoo", "verify", "osnet_demo", "--registry", str(registry), "--offline"],
                          capture_output=True, text=True, timeout=300)
    assert "Traceback" not in done.stderr and done.returncode in (1, 2), done.stderr
    assert "golden.json" in done.stdout + done.stderr and "cases" in done.stdout + done.stderr


MEASURED = {"variant": "osnet_demo", "dataset": "synthetic_reid", "format": "int8", "resolution": "128x64",
            "origin": "measured", "measured_on": {"kind": "host", "runtime": "ai-edge-litert 2.3.0", "cpu": "Test CPU",
                                                  "threads": 1},
            "values": {"inference_time": {"value": 1.25, "unit": "ms"}}}


def _styled(style: str) -> str:
    """The demo card with its performance list as a person might write it."""
    text = DEMO_CARD.read_text()
    data = yaml.safe_load(text)
    head = text[: text.index("\nperformance:")] + "\n"
    if style == "block":
        return text
    if style == "flow":
        return head + "performance: " + yaml.safe_dump(data["performance"], default_flow_style=True, width=100) + ""
    if style == "flow over lines":
        return head + "performance: [\n" + ",\n".join("  " + json.dumps(r) for r in data["performance"]) + "\n]\n"
    if style == "empty":
        return head + "performance: []\n"
    return head  # no performance key at all


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("style", ["block", "flow", "flow over lines", "empty", "absent"])
def test_measured_records_are_written_into_any_performance_list(style: str, newline: str, tmp_path: Path) -> None:
    """Issue 23 #6: a flow-style list was "invalid YAML", [] was refused, and a CRLF card got LF lines."""
    path = tmp_path / "card.yaml"
    original = _styled(style).replace("\n", newline)
    path.write_bytes(original.encode())
    before = yaml.safe_load(original).get("performance") or []
    assert write_records(read_card(path), [MEASURED]) == 1
    raw = path.read_bytes().decode()
    card = load_card(path)
    assert card.performance[: len(before)] == before and card.performance[-1] == MEASURED
    head = original[: original.index("performance:")] if "performance:" in original else original
    assert raw.startswith(head)  # nothing before the list changed
    if newline == "\r\n":
        assert raw.count("\n") == raw.count("\r\n")
    again = {**MEASURED, "values": {"inference_time": {"value": 2.5, "unit": "ms"}}}
    write_records(load_card(path), [again])  # the same measurement again replaces it
    assert load_card(path).performance[len(before):] == [again]


segments = st.lists(st.sampled_from(["a", "b", "..", ".", "sub", "x y", "README.md"]), min_size=0, max_size=5)


@settings(max_examples=200, deadline=None)
@given(st.lists(segments, min_size=1, max_size=4))
def test_import_targets_never_leave_the_output_folder(paths) -> None:
    import os

    readmes = ["/".join([*p, "README.md"]) for p in paths]
    out = Path("/tmp/zoo-out")
    for source, card in import_targets(readmes, out):
        real = Path(os.path.normpath(card))
        assert real.parent.parent == out and real.name == "card.yaml", (source, card)


def test_import_card_of_a_path_with_dot_dot_writes_inside_out(tmp_path: Path, capsys) -> None:
    from zoo.cli import main

    source = (data_dir("model_cards") / "osnet_demo" / "README.md").read_text()
    for folder in ("x", "y", "x/sub"):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
    (tmp_path / "x" / "README.md").write_text(source)
    (tmp_path / "y" / "README.md").write_text(source)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    code = main(["import-card", str(tmp_path / "x/sub/../README.md"), str(tmp_path / "y/README.md"), "-o",
                 str(tmp_path / "OUT")])
    capsys.readouterr()
    assert code in (0, 2)
    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and "OUT" not in p.parts}
    assert after == before  # nothing written or rewritten outside OUT
    assert (tmp_path / "OUT" / "x" / "card.yaml").exists() or code == 2
