"""Publish a release to a Hugging Face repo in one commit (``huggingface_hub.HfApi.create_commit``).

The commit holds the artifacts, their ``<file>.sig`` signatures, ``card.yaml``, the README rendered with the
front matter of this model alone (``zoo.render.front_matter``: Hub pipeline tag, metric and licence ids) and
``.eval_results/<id>.yaml``. The repo is created when missing. What is recorded back is the commit itself,
``hf://ORG/REPO/{file}@<commit sha>``, so a later push to the branch never changes what the registry pulls.
The token huggingface_hub finds (``HF_TOKEN``) is only sent to an https endpoint, as for pulls.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from zoo.cards.card import read_card
from zoo.core.errors import ConfigError, SourceUnavailableError, UsageError
from zoo.core.files import read_text
from zoo.core.settings import Settings
from zoo.release.gathering import Release
from zoo.render.front_matter import dump_yaml, eval_results
from zoo.render.readme import render_text

_REPO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,95}/[A-Za-z0-9][A-Za-z0-9_.-]{0,95}$")


@dataclass
class Committed:
    """The commit a release became: its pinned source template, sha and the files it holds."""

    source: str
    commit: str
    files: list[str] = field(default_factory=list)
    uploaded: list[str] = field(default_factory=list)


def parse_destination(destination: str) -> tuple[str, str]:
    """``hf://ORG/REPO[@BRANCH]`` -> (repo id, branch).

    >>> parse_destination("hf://st/osnet@release")
    ('st/osnet', 'release')
    """
    repo, _, branch = destination[len("hf://"):].partition("@")
    if not _REPO.match(repo) or ".." in repo or (branch and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_./-]*", branch)):
        raise UsageError(f"{destination!r}: expected hf://ORG/REPO[@BRANCH]")
    return repo, branch or "main"


def contents(release: Release) -> dict[str, bytes]:
    """Every file of the commit but the artifacts: signatures, card, README for this model, .eval_results."""
    files = dict(release.signatures())
    model = release.model
    card_path = release.docs.get(model.card.name) if model.card is not None else None
    if card_path is None:
        return files
    files["card.yaml"] = card_path.read_bytes()
    card = read_card(card_path)
    variant = model.id if model.id in card.variant_ids else None
    if "README.md" in release.docs:
        readme = release.docs["README.md"]
        text, _ = read_text(readme)
        files["README.md"] = render_text(text, card, None, path=readme, variant=variant).encode()
    for name, entries in eval_results(card, variant).items():
        files[f".eval_results/{name}"] = dump_yaml(entries).encode()
    return files


def commit(release: Release, destination: str, settings: Settings) -> Committed:
    """One commit on ``hf://ORG/REPO[@BRANCH]`` holding the release; the repo is created when missing."""
    import httpx
    from huggingface_hub import CommitOperationAdd, HfApi, get_token
    from huggingface_hub.errors import HfHubHTTPError

    repo, branch = parse_destination(destination)
    endpoint = settings.hf_endpoint
    api = HfApi(endpoint=endpoint, token=get_token() if endpoint.startswith("https://") else False)
    extra = contents(release)
    operations = [CommitOperationAdd(path_in_repo=name, path_or_fileobj=str(release.files[name]))
                  for name in release.files]
    operations += [CommitOperationAdd(path_in_repo=name, path_or_fileobj=data) for name, data in extra.items()]
    try:
        api.create_repo(repo, exist_ok=True)
        info = api.create_commit(repo, operations, revision=branch,
                                 commit_message=f"zoo publish {release.model.id}@{release.version}",
                                 commit_description="Released with zoo: files verified against the registry by sha256"
                                 + (", each signed with model-signing." if release.signed else "."))
    except HfHubHTTPError as exc:
        status = exc.response.status_code if exc.response is not None else None
        what = f"HTTP {status}" if status else "no answer"
        if status in (401, 403):
            raise ConfigError(f"{endpoint}: {what}: not allowed to write {repo} (set HF_TOKEN to a write token)") from None
        raise SourceUnavailableError(f"{endpoint}: {what} while committing to {repo}") from None
    except (OSError, httpx.TransportError) as exc:
        raise SourceUnavailableError(f"{endpoint}: cannot reach the hub ({type(exc).__name__})") from None
    names = [*release.files, *extra]
    return Committed(f"hf://{repo}/{{file}}@{info.oid}", info.oid, names, names)
