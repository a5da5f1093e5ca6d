"""Signatures of released files, made and checked with OpenSSF ``model-signing`` (an extra: ``zoo[sign]``).

One signature per released file: a Sigstore bundle whose in-toto statement names the file and its sha256,
so ``pull`` checks exactly the files it fetched (a pull of the tflite file needs no keras file).
It travels with the release as ``<file>.sig``: beside the file in a mirror or a Hugging Face commit, and
as a ``<file>.sig`` layer under the OCI tag ``sha256-<manifest hex>.sig``.

A registry entry names whom it trusts (``signature: {key: release.pub}``, an EC public key in PEM, or
``{identity: ..., issuer: ...}`` for Sigstore keyless signing); every artifact of that model must then
carry a signature that verifies with it and covers its sha256. Verification runs model-signing itself on
a folder holding a hard link to the cached file, so the bytes hashed are the bytes handed out.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from zoo.catalog.registry import Artifact, Trust
from zoo.core.errors import ConfigError, SignatureError, ZooError
from zoo.core.files import read_bytes, write_atomic

INSTALL_HINT = "signatures need model-signing: pip install 'zoo[sign]'"


def _model_signing():  # -> module model_signing
    try:
        import model_signing.signing  # noqa: F401  (the package's submodules are not imported by it)
        import model_signing.verifying  # noqa: F401
        import OpenSSL  # noqa: F401  model-signing imports it without declaring it
    except ImportError:
        raise ConfigError(INSTALL_HINT) from None
    import model_signing

    return model_signing


@contextlib.contextmanager
def _release_folder(files: dict[str, Path], workdir: Path) -> Iterator[Path]:
    """A temporary folder holding ``files`` under their release names (hard links; copies across devices)."""
    workdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=workdir, prefix="sign-") as tmp:
        folder = Path(tmp) / "release"
        folder.mkdir()
        for name, path in files.items():
            try:
                os.link(os.path.realpath(path), folder / name)
            except OSError:
                shutil.copyfile(path, folder / name)
        yield folder


def sign_file(path: Path, name: str, private_key: Path, workdir: Path) -> bytes:
    """The signature bundle of the file at ``path`` released as ``name``, signed with an EC private key (PEM)."""
    ms = _model_signing()
    with _release_folder({name: path}, workdir) as folder:
        out = folder.parent / "bundle.sig"
        try:
            ms.signing.Config().use_elliptic_key_signer(private_key=private_key).sign(folder, out)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"cannot sign with this key: {_first_line(exc)}", path=private_key) from None
        return out.read_bytes()


def public_key_pem(private_key: Path) -> bytes:
    """The PEM public key of an EC private key: what a registry names to trust its signatures."""
    _model_signing()
    from cryptography.hazmat.primitives import serialization

    try:
        key = serialization.load_pem_private_key(read_bytes(private_key, limit=1 << 16), None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"not an unencrypted PEM private key ({_first_line(exc)})", path=private_key) from None
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def verify_file(bundle: bytes, artifact: Artifact, path: Path, trust: Trust, workdir: Path) -> None:
    """Raise ``SignatureError`` unless ``bundle`` verifies with ``trust`` and covers exactly ``path``'s bytes
    under the artifact's file name. The caller has already checked ``path`` against the registry's sha256."""
    ms = _model_signing()
    name = f"{artifact.model_id}/{artifact.file}"
    with _release_folder({artifact.file: path}, workdir) as folder:
        signature = folder.parent / "bundle.sig"
        write_atomic(signature, bundle, durable=False)
        try:
            config = ms.verifying.Config()
            if trust.key is not None:
                # Read through the file layer (a registry in a pull request may name a FIFO or a huge file),
                # and handed to model-signing as a private copy.
                key = folder.parent / "trusted.pub"
                write_atomic(key, read_bytes(trust.key, limit=1 << 16), durable=False)
                config.use_elliptic_key_verifier(public_key=key)
            else:
                config.use_sigstore_verifier(identity=trust.identity, oidc_issuer=trust.issuer)
            config.verify(folder, signature)
        except FileNotFoundError:
            raise ConfigError(f"the registry's trusted key for {artifact.model_id} does not exist",
                              path=trust.key) from None
        except ZooError:  # the key file refused by the file layer: a FIFO, a device, too large
            raise
        except Exception as exc:  # noqa: BLE001 - model-signing raises ValueError, protobuf and crypto errors alike
            raise SignatureError(f"signature of {name} refused: {_reason(exc, trust)}") from None


def _reason(exc: Exception, trust: Trust) -> str:
    text = _first_line(exc)
    who = f"the trusted key {trust.key.name}" if trust.key is not None else f"{trust.identity} ({trust.issuer})"
    if "Key mismatch" in text or type(exc).__name__ == "InvalidSignature":
        return f"not signed by {who}"
    if "Signature mismatch" in text:
        return "it was signed over other bytes (" + text.partition(": ")[2].strip("[]'\"") + ")"
    return f"not a valid signature bundle for an EC key ({text or type(exc).__name__})"


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [""])[0][:300]
