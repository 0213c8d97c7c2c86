#!/usr/bin/env python3
"""Fetch and unpack the pinned third-party sources listed in sources.lock.

Everything comes from Debian's archive through apt itself, with a private apt
configuration (its own lists and caches under the tflstm cache) whose mirror is
the one this machine's apt already uses. Files are verified by sha256; once they
are in the cache, nothing touches the network again.

    python3 third_party/fetch.py [--arch amd64|arm64|armhf] [--cache DIR] [--lock FILE]

Prints the folder holding the unpacked sources (one sub-folder per lock entry).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
LOCK = HERE / "sources.lock"
SUITES = ("bookworm", "trixie", "sid")
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"


@dataclass(frozen=True)
class Entry:
    name: str
    kind: str  # "source" or "deb"
    spec: str  # package=version as apt takes it
    suite: str
    file: str
    sha256: str

    @property
    def package(self) -> str:
        return self.spec.split("=", 1)[0]


class FetchError(RuntimeError):
    pass


def log(msg: str) -> None:
    print(f"[tflstm fetch] {msg}", file=sys.stderr, flush=True)


def cache_root(explicit: str | None) -> Path:
    if explicit:
        return Path(explicit).expanduser().resolve()
    env = os.environ.get("TFLSTM_CACHE")
    if env:
        return Path(env).expanduser().resolve()
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "tflstm"


def read_lock(lock: Path = LOCK) -> list[Entry]:
    entries = []
    for line in lock.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        entries.append(Entry(*line.split()))
    return entries


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def machine_mirror() -> str:
    """The Debian mirror this machine's apt is configured with (never hard-coded here)."""
    candidates: list[str] = []
    parts = Path("/etc/apt/sources.list.d")
    for f in sorted(parts.glob("*.sources")) if parts.is_dir() else []:
        for stanza in f.read_text().split("\n\n"):
            fields = {
                k.strip().lower(): v.strip()
                for k, _, v in (ln.partition(":") for ln in stanza.splitlines() if ":" in ln and not ln.startswith("#"))
            }
            if "security" in fields.get("suites", ""):
                continue
            candidates += fields.get("uris", "").split()
    lists = [Path("/etc/apt/sources.list")] + (sorted(parts.glob("*.list")) if parts.is_dir() else [])
    for f in lists:
        if f.is_file():
            for ln in f.read_text().splitlines():
                m = re.match(r"^\s*deb(?:-src)?\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)", ln)
                if m and "security" not in m.group(2):
                    candidates.append(m.group(1))
    for uri in candidates:
        if uri.rstrip("/").endswith("/debian"):
            return uri
    raise FetchError(
        "no Debian mirror found in /etc/apt/sources.list{,.d}: tflstm fetches TFLite's sources "
        "from the same Debian archive that apt uses; configure one, or fill the cache's "
        "downloads/ folder with the files named in third_party/sources.lock"
    )


class PrivateApt:
    """apt-get with its own sources, lists and caches: the machine's apt state is untouched."""

    def __init__(
        self,
        root: Path,
        sources: str | None = None,
        architectures: tuple[str, ...] = ("amd64", "arm64", "armhf"),
        native: str | None = None,
    ):
        """`sources`: a deb822 sources text with {mirror} and {keyring} fields (default: the
        TFLite recipe's); `native`: the architecture apt resolves dependencies for."""
        self.root = root
        self.sources = root / "sources.sources"
        self.sources_text = sources
        self.architectures = architectures
        self.native = native
        self.lists = root / "lists"
        self.updated = False

    def options(self) -> list[str]:
        opts = {
            "Dir::Etc::SourceList": self.sources,
            "Dir::Etc::SourceParts": "/dev/null",
            "Dir::State::Lists": self.lists,
            "Dir::Cache": self.root / "cache",
            "Dir::State::status": self.root / "status",
        }
        args = [a for k, v in opts.items() for a in ("-o", f"{k}={v}")]
        if self.native:
            args += ["-o", f"APT::Architecture={self.native}"]
        for arch in self.architectures:
            args += ["-o", f"APT::Architectures::={arch}"]
        if os.geteuid() == 0:
            args += ["-o", "APT::Sandbox::User=root"]
        return args

    def update(self) -> None:
        if self.updated:
            return
        mirror = machine_mirror()
        (self.lists / "partial").mkdir(parents=True, exist_ok=True)
        (self.root / "cache" / "archives" / "partial").mkdir(parents=True, exist_ok=True)
        (self.root / "status").touch()
        # Sources from every suite; binary lists only from sid (ruy's -dev packages), because
        # one broken binary index makes apt drop a whole suite.
        self.sources.write_text(
            (
                self.sources_text
                or (
                    f"Types: deb-src\nURIs: {{mirror}}\nSuites: {' '.join(SUITES)}\nComponents: main\n"
                    "Signed-By: {keyring}\n\n"
                    "Types: deb\nURIs: {mirror}\nSuites: sid\nComponents: main\n"
                    "Architectures: amd64 arm64 armhf\nSigned-By: {keyring}\n"
                )
            ).format(mirror=mirror, keyring=KEYRING)
        )
        log(f"apt-get update (private lists under {self.lists}, mirror {mirror})")
        r = subprocess.run(["apt-get", "-q", *self.options(), "update"], capture_output=True, text=True)
        if r.returncode != 0:
            # Partial failures are common (a mirror mid-sync); the downloads below say what is missing.
            log(
                "apt-get update reported errors: "
                + " | ".join(ln for ln in r.stdout.splitlines() + r.stderr.splitlines() if ln.startswith(("E:", "Err")))
            )
        self.updated = True

    def fetch_into(self, entry: Entry, workdir: Path) -> None:
        """Runs apt in workdir. Exit codes are not trusted: many .dsc files are missing from
        the pool while the .orig tarball is there, so callers judge by the file's sha256."""
        if entry.kind == "deb":
            attempts = [["download", entry.spec]]
        else:
            # The pinned revision first; then whatever revision each suite has now, which
            # usually shares the same upstream tarball.
            attempts = [["source", "--download-only", entry.spec]] + [
                ["source", "--download-only", f"{entry.package}/{suite}"] for suite in SUITES
            ]
        for cmd in attempts:
            subprocess.run(
                ["apt-get", "-q", *self.options(), *cmd],
                cwd=workdir,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            got = workdir / entry.file
            if got.is_file() and sha256_of(got) == entry.sha256:
                return


def download(entries: list[Entry], cache: Path) -> None:
    downloads = cache / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    missing = []
    for e in entries:
        f = downloads / e.file
        if f.is_file() and sha256_of(f) == e.sha256:
            continue
        missing.append(e)
    if not missing:
        return
    if shutil.which("apt-get") is None:
        raise FetchError(
            f"apt-get is not available: put these files into {downloads}: " + ", ".join(e.file for e in missing)
        )
    apt = PrivateApt(cache / "apt")
    apt.update()
    failed = []
    for e in missing:
        log(f"downloading {e.file}")
        with tempfile.TemporaryDirectory(dir=cache) as tmp:
            apt.fetch_into(e, Path(tmp))
            got = Path(tmp) / e.file
            if got.is_file() and sha256_of(got) == e.sha256:
                shutil.move(str(got), downloads / e.file)
            elif got.is_file():
                failed.append(f"{e.file}: sha256 {sha256_of(got)} does not match the pinned {e.sha256}")
            else:
                failed.append(f"{e.file}: not obtainable as {e.spec} (pinned from {e.suite})")
    if failed:
        raise FetchError(
            "some pinned sources could not be fetched:\n  "
            + "\n  ".join(failed)
            + "\nDebian may have replaced them (sid and trixie move on). Pin the archive's current "
            "version in third_party/sources.lock (after checking that it builds), or copy the "
            f"exact files into {downloads}."
        )


def unpack(entry: Entry, cache: Path) -> Path:
    dest = cache / "src" / entry.name
    stamp = dest / ".tflstm-sha256"
    if stamp.is_file() and stamp.read_text().strip() == entry.sha256:
        return dest
    if dest.exists():
        shutil.rmtree(dest)
    tmp = Path(tempfile.mkdtemp(dir=cache / "src", prefix=f".{entry.name}-"))
    archive = cache / "downloads" / entry.file
    log(f"unpacking {entry.file}")
    if entry.kind == "deb":
        subprocess.run(["dpkg-deb", "-x", str(archive), str(tmp)], check=True)
        tmp.rename(dest)
    else:
        with tarfile.open(archive) as tf:
            tf.extractall(tmp, filter="tar")
        tops = list(tmp.iterdir())
        # Upstream tarballs hold one top folder; strip it so the layout is the same for all.
        root = tops[0] if len(tops) == 1 and tops[0].is_dir() else tmp
        root.rename(dest)
        if root is not tmp:
            shutil.rmtree(tmp)
    stamp.write_text(entry.sha256 + "\n")
    return dest


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--arch",
        default="amd64",
        choices=("amd64", "arm64", "armhf"),
        help="architecture whose ruy package is unpacked (default amd64)",
    )
    p.add_argument("--cache", help="cache folder (default $TFLSTM_CACHE or ~/.cache/tflstm)")
    p.add_argument("--download-only", action="store_true", help="fetch into the cache, do not unpack")
    p.add_argument("--lock", type=Path, default=LOCK, help="the lock file to fetch (default: sources.lock)")
    args = p.parse_args(argv)

    cache = cache_root(args.cache)
    entries = [e for e in read_lock(args.lock) if e.kind == "source" or e.name == f"ruy-{args.arch}"]
    try:
        download(entries, cache)
        if not args.download_only:
            (cache / "src").mkdir(parents=True, exist_ok=True)
            for e in entries:
                unpack(e, cache)
    except (FetchError, subprocess.CalledProcessError, OSError, tarfile.TarError) as exc:
        print(f"tflstm fetch: error: {exc}", file=sys.stderr)
        return 1
    print(cache / "src")
    return 0


if __name__ == "__main__":
    sys.exit(main())
