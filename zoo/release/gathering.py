"""What a release is made of, whatever its destination: the model's verified files, its card and README,
and (with a signing key) one signature per file.

Files come from zoo's cache through ``fetch``, so a release can only ship bytes that match the registry
(and, when the registry already trusts a key, bytes whose signature verifies): publishing never uploads
what a user's ``pull`` would refuse.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

from zoo.catalog.registry import Artifact, Model, Registry, Trust
from zoo.core.errors import UsageError
from zoo.core.files import read_bytes
from zoo.core.settings import Settings
from zoo.artifacts.fetching import fetch, kept_signature
from zoo.artifacts.partial import Progress

SIGNATURE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"


@dataclass
class Release:
    """One model's release: ``files`` (artifact file name -> verified path) in the registry's order, and
    ``docs`` (``card.yaml``, ``README.md`` -> path) when the model has a card.

    Signatures: made with ``sign_key``, or, without one, the verified signatures of a model the registry
    already wants signed, carried along (``carried``) so that a new destination serves them too."""

    model: Model
    version: str
    artifacts: tuple[Artifact, ...]
    files: dict[str, Path]
    docs: dict[str, Path]
    workdir: Path
    sign_key: Path | None = None
    carried: dict[str, bytes] = field(default_factory=dict)
    _signatures: dict[str, bytes] = field(default_factory=dict)

    @property
    def signed(self) -> bool:
        return self.sign_key is not None or bool(self.carried)

    def signatures(self) -> dict[str, bytes]:
        """``<file>.sig`` -> the file's signature bundle (signed once, when a destination first needs it)."""
        from zoo.artifacts.signatures import sign_file

        if self.sign_key is None:
            return self.carried
        if not self._signatures:
            for art in self.artifacts:
                self._signatures[f"{art.file}.sig"] = sign_file(self.files[art.file], art.file, self.sign_key,
                                                                self.workdir)
        return self._signatures

    def public_key(self) -> bytes | None:
        """The PEM public key of the signing key (what a registry records to trust these signatures)."""
        from zoo.artifacts.signatures import public_key_pem

        return public_key_pem(self.sign_key) if self.sign_key is not None else None

    def already_signed(self, signature: bytes | None, art: Artifact) -> bool:
        """Whether ``signature`` (found at a destination) is this release's for ``art``: it verifies with the
        signing key, or it is the carried signature. Publishing again then keeps it instead of uploading anew."""
        from zoo.core.errors import IntegrityError
        from zoo.artifacts.signatures import verify_file

        if signature is None:
            return False
        key = self.public_key()
        if key is None:
            return signature == self.carried.get(f"{art.file}.sig")
        self.workdir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.workdir) as tmp:
            pem = Path(tmp) / "signing.pub"
            pem.write_bytes(key)
            try:
                verify_file(signature, art, self.files[art.file], Trust(key=pem), self.workdir)
            except IntegrityError:
                return False
        return True


def gather(registry: Registry, ref: str, *, settings: Settings, sign_key: Path | None = None,
           progress: Progress | None = None) -> Release:
    """The release of ``ref`` (``ID`` or ``ID@VERSION``): every artifact fetched and verified, the card and its
    README.

    A registry that already trusts a key must be published with that key's private half (``UsageError``
    otherwise), so a release never carries signatures its own registry would refuse.
    """
    model = registry.get(ref)
    if sign_key is not None:
        from zoo.artifacts.signatures import public_key_pem

        trusted = model.artifacts[0].trust
        if trusted is not None and trusted.key is not None and \
                read_bytes(trusted.key, limit=1 << 16).strip() != public_key_pem(sign_key).strip():
            raise UsageError(f"{model.id}: the registry trusts {trusted.key}; --sign with the private key that "
                             "belongs to it", path=sign_key)
    # The signer is about to sign these bytes: the registry's sha256 is what they are checked against.
    fetched = [replace(a, trust=None) if sign_key is not None else a for a in model.artifacts]
    files = {art.file: fetch(art, settings=settings, progress=progress) for art in fetched}
    carried = {f"{a.file}.sig": read_bytes(kept_signature(a, settings), limit=1 << 20) for a in model.artifacts
               if sign_key is None and a.trust is not None and kept_signature(a, settings).is_file()}
    docs = {}
    if model.card is not None:
        docs = {name: model.card.parent / name for name in (model.card.name, "README.md")
                if (model.card.parent / name).is_file()}
    return Release(model, model.version, model.artifacts, files, docs, settings.cache_dir / "tmp", sign_key, carried)
