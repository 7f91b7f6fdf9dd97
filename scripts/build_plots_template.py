#!/usr/bin/env python3
"""Rebuild .dvc/offline_plots.html: DVC's plots page with the Vega bundles inlined.

`dvc plots show` and `dvc plots diff` write a page whose <script src> tags load vega,
vega-lite and vega-embed from a CDN, so offline (or behind a strict proxy) every chart
is blank. `.dvc/config` points `plots.html_template` at the file this script writes:
the same page with the three bundles inlined and no ``{scripts}`` placeholder (that is
where DVC would put the CDN tags).

The bundles come from the npm registry (`npm pack`), pinned by version and by the
tarball's sha512 integrity, so the output is byte-for-byte reproducible:

    python scripts/build_plots_template.py            # rewrite the template
    python scripts/build_plots_template.py --check    # fail if the committed file differs
    python scripts/build_plots_template.py --tarballs DIR   # use already downloaded .tgz

To upgrade: change VERSION and INTEGRITY below (`npm view vega@5 dist.integrity`); stay on
the major versions DVC's own page loads (dvc_render.vega.VegaRenderer.SCRIPTS: vega 5,
vega-lite 5, vega-embed 6) since DVC's templates emit Vega-Lite v5 specs.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / ".dvc" / "offline_plots.html"


@dataclass(frozen=True)
class Bundle:
    package: str
    version: str
    integrity: str  # npm's sha512 of the tarball, as `npm view <pkg>@<v> dist.integrity`
    path: str  # the browser bundle inside the tarball

    @property
    def spec(self) -> str:
        return f"{self.package}@{self.version}"

    @property
    def tarball(self) -> str:
        return f"{self.package}-{self.version}.tgz"


# Load order matters: vega-lite needs vega, vega-embed needs both (UMD globals).
BUNDLES = (
    Bundle(
        "vega",
        "5.33.1",
        "sha512-1fArfVDUqVbb5z8n+/nVQb+VNBzx8svY6CrsyTK4Ujm4yrd9I1auoKxBAPXLCavY1LcrbHUskQbGUP8gXOzyQw==",
        "package/build/vega.min.js",
    ),
    Bundle(
        "vega-lite",
        "5.23.0",
        "sha512-l4J6+AWE3DIjvovEoHl2LdtCUkfm4zs8Xxx7INwZEAv+XVb6kR6vIN1gt3t2gN2gs/y4DYTs/RPoTeYAuEg6mA==",
        "package/build/vega-lite.min.js",
    ),
    Bundle(
        "vega-embed",
        "6.29.0",
        "sha512-PmlshTLtLFLgWtF/b23T1OwX53AugJ9RZ3qPE2c01VFAbgt3/GSNI/etzA/GzdrkceXFma+FDHNXUppKuM0U6Q==",
        "package/build/vega-embed.min.js",
    ),
)

# The three packages share this license (vega's tarball ships no LICENSE file; its
# package.json says BSD-3-Clause and its repository holds this same text).
LICENSE = """\
Copyright (c) 2015, University of Washington Interactive Data Lab.
All rights reserved.

Redistribution and use in source and binary forms, with or without
modification, are permitted provided that the following conditions are met:

1. Redistributions of source code must retain the above copyright notice, this
   list of conditions and the following disclaimer.

2. Redistributions in binary form must reproduce the above copyright notice,
   this list of conditions and the following disclaimer in the documentation
   and/or other materials provided with the distribution.

3. Neither the name of the copyright holder nor the names of its contributors
   may be used to endorse or promote products derived from this software
   without specific prior written permission.

THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS"
AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE
IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE
DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR CONTRIBUTORS BE LIABLE
FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL
DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR
SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER
CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY,
OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE
OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE."""

# DVC (dvc_render.html.HTML) replaces these with str.replace: each must appear only
# where DVC should fill it, never inside the inlined code or the comments.
PLOTS_PLACEHOLDER = "{plot_divs}"
FORBIDDEN_PLACEHOLDERS = ("{scripts}", "{refresh_tag}")


def sri(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def fetch(bundles: tuple[Bundle, ...], dest: Path) -> None:
    """Download the pinned tarballs from the npm registry with npm's own client."""
    specs = [b.spec for b in bundles]
    subprocess.run(
        ["npm", "pack", "--silent", "--pack-destination", str(dest), *specs],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def read_bundle(bundle: Bundle, tarballs: Path) -> str:
    tgz = tarballs / bundle.tarball
    data = tgz.read_bytes()
    if sri(data) != bundle.integrity:
        sys.exit(f"error: {tgz} does not match the pinned integrity {bundle.integrity}")
    with tarfile.open(tgz) as archive:
        member = archive.extractfile(bundle.path)
        if member is None:
            sys.exit(f"error: {tgz} has no {bundle.path}")
        code = member.read().decode("utf-8")
    # An inline script ends at the first "</script"; "<!--" changes how it is parsed.
    lowered = code.lower()
    for bad in ("</script", "<!--", PLOTS_PLACEHOLDER, *FORBIDDEN_PLACEHOLDERS):
        if bad in lowered:
            sys.exit(f"error: {bundle.path} contains {bad!r}: cannot be inlined as is")
    return code


def render(codes: dict[Bundle, str]) -> str:
    lines = [
        "<!DOCTYPE html>",
        "<!--",
        "  Offline page for `dvc plots show` and `dvc plots diff` (plots.html_template in",
        "  .dvc/config). GENERATED by scripts/build_plots_template.py: do not edit, rerun it.",
        "  DVC fills the plot_divs placeholder in <body>; the scripts placeholder is left out",
        "  on purpose (DVC would put its CDN script tags there).",
        "",
        "  Inlined bundles (npm registry tarballs, checked against their integrity):",
    ]
    for bundle, code in codes.items():
        digest = hashlib.sha256(code.encode("utf-8")).hexdigest()
        lines.append(
            f"  bundle {bundle.package} {bundle.version} {bundle.path.removeprefix('package/')}"
            f" sha256={digest} tarball={bundle.integrity} license=BSD-3-Clause"
        )
    lines += ["", "  vega, vega-lite and vega-embed are distributed under this license:", ""]
    lines += [f"  {line}".rstrip() for line in LICENSE.splitlines()]
    lines += [
        "-->",
        "<html>",
        "<head>",
        '<meta charset="utf-8">',
        "<title>DVC plots</title>",
    ]
    for bundle, code in codes.items():
        lines.append(f'<script data-bundle="{bundle.spec}">{code}</script>')
    lines += [
        "<style>",
        "  body { font-family: sans-serif; }",
        "  table { border-spacing: 15px; }",
        "</style>",
        "</head>",
        "<body>",
        PLOTS_PLACEHOLDER,
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(lines)


def build(tarballs: Path | None) -> str:
    with tempfile.TemporaryDirectory(prefix="plots-template-") as tmp:
        if tarballs is None:
            tarballs = Path(tmp)
            fetch(BUNDLES, tarballs)
        codes = {bundle: read_bundle(bundle, tarballs) for bundle in BUNDLES}
    return render(codes)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--output", type=Path, default=TEMPLATE, help="where to write the template")
    p.add_argument(
        "--tarballs", type=Path, help="folder with the pinned .tgz files (skips npm pack)"
    )
    p.add_argument("--check", action="store_true", help="compare with --output, do not write")
    args = p.parse_args()
    page = build(args.tarballs)
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != page:
            print(f"{args.output} is out of date: rerun {Path(__file__).name}", file=sys.stderr)
            return 1
        print(f"{args.output} is up to date ({len(page.encode())} bytes)")
        return 0
    args.output.write_text(page, encoding="utf-8")
    print(f"wrote {args.output} ({len(page.encode())} bytes)")
    print(json.dumps({b.package: b.version for b in BUNDLES}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
