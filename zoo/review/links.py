"""Links as written: syntax, citation marks and their references, arXiv ids, labels against targets, and links
into another use case's folder."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator

from zoo.cards.checks import arxiv_problem
from zoo.review.findings import Finding, finding
from zoo.review.page import Page
from zoo.verification.rules.base import Severity

_ANCHOR = re.compile(r"<a\s+(?:id|name)\s*=\s*[\"']?([^\"'>\s]+)", re.I)
_ARXIV = re.compile(r"arxiv\.org/(?:abs|pdf)/([^\s)\]>\"'}]+?)(?:\.pdf)?(?=[\s)\]>\"'}]|$)|\barXiv:\s*([\w./-]+\d)", re.I)
_NO_PARENS = re.compile(r"(?<![!\]])\[[^\[\]]+\]https?://\S+")
_GENERIC = re.compile(r"^(link|here|paper|pdf|arxiv|source|url|\[?\d+\]?|ref\.?|reference|online|\s*)$", re.I)

#: Use-case folders of a model zoo (the STM32 model zoo's), and the names cards give their use case.
USE_CASES = ("image_classification", "object_detection", "pose_estimation", "semantic_segmentation",
             "instance_segmentation", "depth_estimation", "face_detection", "face_recognition", "hand_posture",
             "human_activity_recognition", "audio_event_detection", "speech_enhancement", "arc_fault_detection",
             "re_identification", "image_super_resolution", "neural_style_transfer", "speech_recognition",
             "keyword_spotting")
_USE_CASE_NAMES = {"aed": "audio_event_detection", "har": "human_activity_recognition", "reid": "re_identification",
                   "hand_posture_recognition": "hand_posture", "person_re_identification": "re_identification",
                   "se": "speech_enhancement", "keyword_spotting": "keyword_spotting", "kws": "keyword_spotting"}

#: Where a well-known dataset lives: a link labelled with one name and pointing at another's site is wrong.
DATASET_SITES = {"coco": ("cocodataset.org",), "imagenet": ("image-net.org",), "pascal voc": ("host.robots.ox.ac.uk",),
                 "wisdm": ("cis.fordham.edu/wisdm",), "cityscapes": ("cityscapes-dataset.com",),
                 "emnist": ("nist.gov/itl/products-and-services/emnist",), "fsd50k": ("zenodo.org/records/4060432",),
                 "esc-50": ("github.com/karolpiczak/esc-50",), "market-1501": ("zheng-lab",),
                 "deepsportradar": ("github.com/deepsportradar",), "widerface": ("shuoyang1213.me/widerface",),
                 "nyu depth": ("cs.nyu.edu/~silberman",), "food-101": ("data.vision.ee.ethz.ch/cvl/datasets_extra/food-101",),
                 "flowers": ("robots.ox.ac.uk/~vgg/data/flowers",), "librispeech": ("openslr.org/12",)}


#: Use cases a file name or a docs path names by a short token (``..._uf_pose_coco-st.tflite``, ``tasks/pose``).
_NAME_TOKENS = {"pose": "pose_estimation", "seg": "segmentation", "od": "object_detection"}
_PATH_TOKENS = {"pose": "pose_estimation", "segment": "segmentation", "detect": "object_detection",
                "classify": "image_classification"}
_FAMILIES = ({"object_detection", "face_detection"}, {"semantic_segmentation", "instance_segmentation", "segmentation"})


def _other_use_case(url: str, own: str) -> str | None:
    """The use case other than ``own`` that a link's file name (first) or its folders name, if any.

    >>> _other_use_case("x/object_detection/yolov8n_256_quant_pc_uf_pose_coco-st.tflite", "object_detection")
    'pose_estimation'
    >>> _other_use_case("x/object_detection/yolo11n_256_quant_pc_uf_od_coco-person-st.tflite", "object_detection")
    >>> _other_use_case("../../pose_estimation/yolo/", "object_detection"), _other_use_case("x/tasks/pose/", "pose_estimation")
    ('pose_estimation', None)
    """
    family = next((f for f in _FAMILIES if own in f), {own})
    *folders, name = url.lower().split("/")
    named = {_NAME_TOKENS[t] for t in re.split(r"[_.-]", name) if t in _NAME_TOKENS}
    if named:
        return None if named & family else sorted(named)[0]
    said = {f for f in folders if f in USE_CASES} | {_PATH_TOKENS[f] for f in folders if f in _PATH_TOKENS}
    return None if not said or said & family else sorted(said)[0]


#: arXiv ids of the papers model zoo cards cite most, by the name a link label gives them (letters and digits
#: only): a link labelled with one of these names that opens another of these ids cites the wrong paper. SSDLite is
#: introduced in the MobileNetV2 paper (listed first, so that id still reads as MobileNetV2's).
PAPERS = {"ssdlite": "1801.04381", "resnet": "1512.03385", "mobilenet": "1704.04861", "mobilenetv2": "1801.04381", "mobilenetv3": "1905.02244",
          "mobilenetv4": "2404.10518", "efficientnet": "1905.11946", "efficientnetv2": "2104.00298",
          "osnet": "1905.00953", "yolox": "2107.08430", "ssd": "1512.02325", "squeezenet": "1602.07360",
          "shufflenetv2": "1807.11164", "mnasnet": "1807.11626", "fastdepth": "1903.03273", "densenet": "1608.06993",
          "yolov2": "1612.08242", "yolov3": "1804.02767", "yolo": "1506.02640", "fdmobilenet": "1802.03750",
          "proxylessnas": "1812.00332", "regnet": "2003.13678", "hardnet": "1909.00948", "peleenet": "1804.06882",
          "squeezenext": "1803.10615", "blazeface": "1907.05047", "deeplabv3": "1706.05587",
          "deeplabv3plus": "1802.02611", "unet": "1505.04597", "convtasnet": "1809.07454", "coco": "1405.0312",
          "emnist": "1702.05373", "hrnet": "1902.09212", "dla": "1707.06484"}


def papers(page: Page) -> Iterator[Finding]:
    """A link whose label names one well-known paper and whose arXiv id is another's."""
    by_id = {v: k for k, v in PAPERS.items()}
    for link in page.links:
        found = _ARXIV.search(link.target)
        if not found:
            continue
        ident = (found.group(1) or found.group(2)).split("v")[0]
        label = re.sub(r"[^a-z0-9]", "", link.label.lower().replace("+", "plus"))
        named = max((k for k in PAPERS if k in label), key=len, default=None)
        if named and ident in by_id and PAPERS[named] != ident and named not in by_id[ident]:
            yield finding(page.path, link.line, "readme.link",
                          f"[{link.label}] opens arXiv {ident}, which is {by_id[ident]}'s paper, not {named}'s "
                          f"({PAPERS[named]}); link the paper the label names")


def use_case_folder(use_case: str) -> str | None:
    """The folder of the use case a card names: ``Object detection`` -> ``object_detection``, ``AED`` ->
    ``audio_event_detection``.

    >>> use_case_folder("object_detection"), use_case_folder("aed"), use_case_folder("x")
    ('object_detection', 'audio_event_detection', None)
    """
    slug = _USE_CASE_NAMES.get(use_case, use_case)
    return slug if slug in USE_CASES else None


def syntax(page: Page) -> Iterator[Finding]:
    """Malformed or nested links: a target that is itself a link, in parentheses or quotes, or empty."""
    seen = set()
    for link in page.links:
        target = link.target.strip()
        why = None
        if not target:
            why = "has an empty target"
        elif target[0] in "([" or "](" in target:
            why = "has a link or parentheses as its target (nested link)"
        elif target[0] in "\"'":
            why = "has a quoted target; GitHub opens it as a relative path"
        elif " " in target and not re.fullmatch(r"<?\S+>?\s+([\"'(]).*([\"')])", target):
            why = "has spaces in its target"
        if why and link.line not in seen:
            seen.add(link.line)
            yield finding(page.path, link.line, "readme.link",
                          f"link [{link.label}]({link.target}) {why}; write [label](URL)")
    for n, text in enumerate(page.lines):  # "[label]https://..." : the parentheses are missing, GitHub shows text
        found = None if n in page.code or n + 1 in seen else _NO_PARENS.search(text)
        if found:
            yield finding(page.path, n + 1, "readme.link",
                          f"link {found.group(0)[:80]!r} has no parentheses around its target; write [label](URL)")


def citations(page: Page) -> Iterator[Finding]:
    """A citation mark (``[[1]](#1)``) whose anchor no reference has."""
    anchors = {a for n, t in enumerate(page.lines) if n not in page.code for a in _ANCHOR.findall(t)}
    anchors |= {_heading_slug(t) for n, t in enumerate(page.lines) if t.lstrip().startswith("#") and n not in page.code}
    for link in page.links:
        target = link.target.strip()
        if target.startswith("#") and target[1:] not in anchors and target[1:].lower() not in anchors:
            severity = None if re.fullmatch(r"\d+", target[1:]) else Severity.WARNING
            yield finding(page.path, link.line, "readme.citation",
                          f"[{link.label}]({target}) points at no reference or heading of the card; add "
                          f"<a id=\"{target[1:]}\"></a> to the reference or fix the mark", severity)


def _heading_slug(line: str) -> str:
    text = line.strip().lstrip("#").strip().lower()
    return re.sub(r"\s", "-", re.sub(r"[^\w\- ]", "", text))


def arxiv(page: Page) -> Iterator[Finding]:
    """Malformed arXiv ids, and one id cited under two different titles."""
    titles: dict[str, dict[str, int]] = defaultdict(dict)
    for n, text in enumerate(page.lines):
        if n in page.code:
            continue
        for found in _ARXIV.finditer(text):
            ident = (found.group(1) or found.group(2)).rstrip(".,;")
            if why := arxiv_problem(f"arXiv:{ident}"):
                yield finding(page.path, n + 1, "readme.arxiv", f"{why}; cite the paper's id as arxiv.org lists it")
    for link in page.links:
        found = _ARXIV.search(link.target)
        if found and not _GENERIC.match(link.label) and not _ARXIV.search(link.label):
            titles[(found.group(1) or found.group(2)).split("v")[0]].setdefault(_title(link.label), link.line)
    for ident, lines in _reference_titles(page).items():
        for title, line in lines.items():
            titles[ident].setdefault(title, line)
    for ident, named in titles.items():
        first, *others = sorted(named.items(), key=lambda kv: kv[1])
        for title, line in others:
            if title not in first[0] and first[0] not in title:
                yield finding(page.path, line, "readme.arxiv",
                              f"arXiv {ident} is cited as {title!r} here and as {first[0]!r} on line {first[1]}: "
                              "one id, two papers; fix the id of one of them")


def _title(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def _reference_titles(page: Page) -> dict[str, dict[str, int]]:
    """arXiv id -> {title: line} of references written ``<a id="1">[1]</a> "Title" ... arxiv.org/abs/ID``."""
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for n, text in enumerate(page.lines):
        if not _ANCHOR.search(text):
            continue
        lines = [page.lines[n]]
        for following in page.lines[n + 1:n + 3]:
            if _ANCHOR.search(following):
                break  # the next reference starts: its id is not this one's
            lines.append(following)
        block = re.sub(r"<[^>]*>", " ", " ".join(lines))  # the anchor's id="1" quotes are no title
        title = re.search(r"[\"“]([^\"”]{8,})[\"”]", block)
        found = _ARXIV.search(block)
        if title and found:
            out[(found.group(1) or found.group(2)).split("v")[0]].setdefault(_title(title.group(1)), n + 1)
    return out


def targets(page: Page) -> Iterator[Finding]:
    """A link labelled with one dataset's name that opens another dataset's site, or with one Creative Commons licence
    that opens another's; a link into another use case's folder (a model row: error; prose: warning)."""
    own = use_case_folder(page.source.use_case)
    for link in page.links:
        url = link.url.lower()
        named = [d for d in DATASET_SITES if re.search(rf"(?<![a-z0-9]){re.escape(d)}(?![a-z0-9])", link.label.lower())]
        hosts = [d for d, sites in DATASET_SITES.items() if any(s in url for s in sites)]
        if named and hosts and not set(named) & set(hosts):
            yield finding(page.path, link.line, "readme.link",
                          f"link [{link.label}] names {named[0]} but opens {hosts[0]}'s page ({link.url}); "
                          "link the dataset the label names")
        said, opens = _licence_of_label(link.label), _licence_of_url(url)
        if said and opens and said != opens:
            yield finding(page.path, link.line, "readme.link",
                          f"link [{link.label}] names the {_cc(said)} licence but opens {_cc(opens)}'s "
                          f"({link.url}); link the licence the label names")
        if own is None or link.target.startswith("#"):
            continue
        other = _other_use_case(url, own)
        if other:
            yield finding(page.path, link.line, "readme.use_case",
                          f"this {own.replace('_', ' ')} card links a model or page of {other.replace('_', ' ')} "
                          f"({link.url}); link this use case's", None if link.in_table else Severity.WARNING)


def _cc(licence: str) -> str:
    return "CC0" if licence == "zero" else f"CC {licence.upper()}"


def _licence_of_label(label: str) -> str | None:
    """The Creative Commons licence a link label names.

    >>> _licence_of_label("CC0 4.0"), _licence_of_label("CC BY 4.0"), _licence_of_label("CC BY-NC-SA 4.0"), _licence_of_label("MIT")
    ('zero', 'by', 'by-nc-sa', None)
    """
    low = label.lower()
    if re.search(r"\bcc\s*0\b|\bcc[\s-]+zero\b", low):
        return "zero"
    found = re.search(r"\bcc[\s-]+by((?:[\s-]+(?:nc|sa|nd)\b)*)", low)
    return "by" + "".join("-" + p for p in re.findall(r"nc|sa|nd", found.group(1))) if found else None


def _licence_of_url(url: str) -> str | None:
    """The Creative Commons licence a creativecommons.org address opens.

    >>> _licence_of_url("https://creativecommons.org/licenses/by/4.0/legalcode"), _licence_of_url("https://creativecommons.org/publicdomain/zero/1.0/")
    ('by', 'zero')
    """
    found = re.search(r"creativecommons\.org/(?:licenses/([a-z-]+)|publicdomain/(zero))", url.lower())
    return (found.group(1) or found.group(2)) if found else None
