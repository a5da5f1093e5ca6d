"""A STAND-IN for the Hugging Face Hub's upload endpoints, on 127.0.0.1: no Hub that accepts uploads can be
installed here (olah answers 405/404 to create_repo/create_commit), so the real huggingface_hub client is
driven against this small server implementing the documented endpoints it calls:

- ``POST /api/repos/create`` (``HfApi.create_repo``; 409 when it exists),
- ``POST /api/validate-yaml`` (the README's metadata, parsed as YAML),
- ``POST /api/models/{repo}/preupload/{revision}`` (which files go through LFS: binary samples),
- ``POST /{repo}.git/info/lfs/objects/batch`` (Git LFS batch API, ``basic`` transfer) and the ``PUT`` it names,
  which checks the uploaded bytes against their sha256 oid,
- ``POST /api/models/{repo}/commit/{revision}`` (the ndjson commit: header, inline files, LFS files).

Each commit becomes a real git commit in ``<root>/mirrors/models/<org>/<repo>`` (LFS files stored whole),
so olah, the local hub the read tests already use, serves what was uploaded for ``hf://`` pulls.
Reads never come from this server.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from servers import git

@dataclass
class HubStandIn:
    root: Path
    port: int = 0
    lfs_puts: list[str] = field(default_factory=list)  # oids uploaded through the LFS batch's PUT
    commits: list[dict] = field(default_factory=list)  # each commit's header and the paths it wrote

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def repo(self, repo_id: str) -> Path:
        return self.root / "mirrors" / "models" / repo_id


def _handler(hub: HubStandIn) -> type:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # quiet
            pass

        def _send(self, status: int, body: dict | None = None) -> None:
            data = json.dumps(body or {}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length", "0")))

        def do_POST(self) -> None:
            path = self.path.split("?", 1)[0]
            body = self._body()
            if path == "/api/repos/create":
                req = json.loads(body)
                repo_id = f"{req['organization']}/{req['name']}" if req.get("organization") else req["name"]
                repo = hub.repo(repo_id)
                if repo.exists():
                    return self._send(409, {"error": "You already created this model repo"})
                repo.mkdir(parents=True)
                git(repo, "init", "-q", "-b", "main")
                git(repo, "commit", "-q", "--allow-empty", "-m", "initial commit")
                return self._send(200, {"url": f"{hub.url}/{repo_id}"})
            if path == "/api/validate-yaml":
                try:
                    yaml.safe_load(json.loads(body)["content"].split("---\n")[1])
                except (yaml.YAMLError, IndexError) as exc:
                    return self._send(400, {"error": f"invalid metadata: {exc}"})
                return self._send(200, {})
            if m := re.fullmatch(r"/api/models/(.+)/preupload/(.+)", path):
                files = json.loads(body)["files"]
                modes = [{"path": f["path"], "shouldIgnore": False,
                          "uploadMode": "lfs" if b"\0" in base64.b64decode(f["sample"]) else "regular"} for f in files]
                return self._send(200, {"files": modes})
            if m := re.fullmatch(r"/(.+)\.git/info/lfs/objects/batch", path):
                objects = json.loads(body)["objects"]
                store = hub.root / "lfs"
                answer = [{"oid": o["oid"], "size": o["size"]} | (
                    {} if (store / o["oid"]).exists() else
                    {"actions": {"upload": {"href": f"{hub.url}/lfs-upload/{o['oid']}"}}}) for o in objects]
                return self._send(200, {"transfer": "basic", "objects": answer})
            if m := re.fullmatch(r"/api/models/(.+)/commit/(.+)", path):
                return self._commit(m.group(1), m.group(2), body)
            self._send(404, {"error": f"no endpoint {path}"})

        def do_PUT(self) -> None:
            m = re.fullmatch(r"/lfs-upload/([0-9a-f]{64})", self.path)
            data = self._body()
            if m is None or hashlib.sha256(data).hexdigest() != m.group(1):
                return self._send(400, {"error": "bytes do not match the oid"})
            store = hub.root / "lfs"
            store.mkdir(exist_ok=True)
            (store / m.group(1)).write_bytes(data)
            hub.lfs_puts.append(m.group(1))
            self._send(200, {})

        def _commit(self, repo_id: str, revision: str, body: bytes) -> None:
            repo = hub.repo(repo_id)
            if not repo.exists():
                return self._send(404, {"error": "Repository not found"})
            header, written = {}, []
            for line in body.splitlines():
                item = json.loads(line)
                value = item["value"]
                if item["key"] == "header":
                    header = value
                    continue
                if item["key"] == "file":
                    data = base64.b64decode(value["content"])
                elif item["key"] == "lfsFile":
                    lfs = hub.root / "lfs" / value["oid"]
                    if not lfs.exists():
                        return self._send(422, {"error": f"LFS object {value['oid']} was never uploaded"})
                    data = lfs.read_bytes()
                else:
                    return self._send(400, {"error": f"unsupported operation {item['key']}"})
                target = repo / value["path"]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
                written.append(value["path"])
            git(repo, "checkout", "-q", "-B", revision)
            git(repo, "add", "-A")
            git(repo, "commit", "-q", "--allow-empty", "-m", header.get("summary", "commit"))
            sha = git(repo, "rev-parse", "HEAD")
            hub.commits.append({"header": header, "paths": written, "oid": sha})
            self._send(200, {"commitOid": sha, "commitUrl": f"{hub.url}/{repo_id}/commit/{sha}",
                             "pullRequestUrl": None})

    return Handler


def serve(root: Path) -> Iterator[HubStandIn]:
    """Run the stand-in until the generator is closed."""
    hub = HubStandIn(root)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(hub))
    server.daemon_threads = True
    hub.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hub
    finally:
        server.shutdown()
        server.server_close()
