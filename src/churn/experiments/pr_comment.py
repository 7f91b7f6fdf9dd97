"""Post the comparison report on a pull request: one comment, updated in place.

Images stay on the repository's own host. GitHub strips ``data:`` image URIs from
comments and has no API to attach files to one, so the PNGs are committed to an
orphan branch of the same repository (a commit that holds only the images, whose
parent is the branch's previous tip) and the comment links them by commit id:
``<server>/<owner>/<repo>/blob/<commit>/<path>?raw=true``. Links by commit id never
change when the branch moves on, and nothing is sent to a third-party image host.

The commit is built with git plumbing (hash-object, a throwaway index, commit-tree),
so the checked-out branch, its index and its working tree are never touched.

On GitLab the same report becomes one merge-request note, and the images go to the
project's own uploads on that GitLab instance (``POST /projects/:id/uploads``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from churn.core.errors import ChurnError

#: Hidden first line of every comparison report: the bot finds its own comment by it.
MARKER = "<!-- churn-compare-report -->"
#: GitHub rejects comment bodies longer than this many characters.
MAX_BODY = 65_536
IMAGE_LINK = re.compile(r"!\[([^\]]*)\]\(([^)\s]+\.png)\)")


class PublishError(ChurnError):
    """The report could not be posted (git push or the GitHub API failed)."""


# ---------------------------------------------------------------- images on a branch


def _git(args: list[str], cwd: Path, env: dict[str, str] | None = None, data: bytes = b"") -> str:
    result = subprocess.run(
        ["git", *args], cwd=cwd, input=data, capture_output=True, env=env or None
    )
    if result.returncode != 0:
        raise PublishError(f"git {' '.join(args)} failed: {result.stderr.decode().strip()}")
    return result.stdout.decode().strip()


def remote_tip(repo: Path, remote: str, branch: str) -> str | None:
    """The commit ``branch`` points to on ``remote``, or None if it does not exist yet."""
    out = _git(["ls-remote", "--heads", remote, f"refs/heads/{branch}"], repo)
    return out.split()[0] if out else None


def publish_images(
    images: Iterable[tuple[Path, str]],
    repo: Path,
    branch: str,
    message: str,
    remote: str = "origin",
) -> str:
    """Commit ``(file, path in branch)`` pairs to ``branch`` on ``remote``; return the commit.

    The new commit's tree holds only these images (older ones stay reachable through
    the branch history, so links in older comments keep working).
    """
    repo = Path(repo)
    parent = remote_tip(repo, remote, branch)
    if parent:
        _git(["fetch", "--quiet", remote, f"refs/heads/{branch}"], repo)
    with tempfile.TemporaryDirectory(prefix="pr-images-") as tmp:
        env = {**os.environ, "GIT_INDEX_FILE": str(Path(tmp) / "index")}
        for file, path in images:
            blob = _git(["hash-object", "-w", "--", str(Path(file).resolve())], repo)
            _git(["update-index", "--add", "--cacheinfo", f"100644,{blob},{path}"], repo, env)
        tree = _git(["write-tree"], repo, env)
    identity = {**os.environ}
    for var in ("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"):
        identity.setdefault(var, "churn-compare")
    for var in ("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"):
        identity.setdefault(var, "churn-compare@users.noreply.github.com")
    commit = _git(
        ["commit-tree", tree, *(["-p", parent] if parent else []), "-F", "-"],
        repo,
        env=identity,
        data=message.encode(),
    )
    _git(["push", "--quiet", remote, f"{commit}:refs/heads/{branch}"], repo)
    return commit


def rewrite_images(markdown: str, url_for: Callable[[str], str | None]) -> str:
    """Point each ``![alt](relative.png)`` at ``url_for(relative)``; None drops the image."""

    def replace(match: re.Match) -> str:
        url = url_for(match.group(2))
        if url is None:
            return f"*({match.group(1)}: see the workflow artifact)*"
        return f"![{match.group(1)}]({url})"

    return IMAGE_LINK.sub(replace, markdown)


def image_paths(markdown: str) -> list[str]:
    """The relative PNG paths the report links, in order."""
    return [m.group(2) for m in IMAGE_LINK.finditer(markdown)]


# ---------------------------------------------------------------- the comment


def _call(req: urllib.request.Request) -> Any:
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")[:500]
        where = f"{req.get_method()} {req.full_url}"
        raise PublishError(f"{where}: HTTP {exc.code}: {detail}") from None
    except urllib.error.URLError as exc:
        raise PublishError(f"{req.get_method()} {req.full_url}: {exc.reason}") from None
    return json.loads(body) if body else None


class CommentThread:
    """One pull/merge request's comments: keep a single marked comment up to date."""

    #: Both GitHub and GitLab page lists by this many items at most.
    PAGE = 100
    #: The HTTP method that edits a comment.
    EDIT = "PATCH"
    #: GitHub rejects longer comment bodies; GitLab's limit is higher.
    MAX_BODY = MAX_BODY

    def __init__(self, api_url: str, token: str) -> None:
        self.api_url = api_url.rstrip("/")
        self.token = token

    def headers(self) -> dict[str, str]:
        raise NotImplementedError

    def list_path(self, number: int) -> str:
        raise NotImplementedError

    def item_path(self, number: int, comment_id: int) -> str:
        raise NotImplementedError

    def request(self, method: str, path: str, payload: dict | None = None) -> Any:
        data = json.dumps(payload).encode() if payload is not None else None
        headers = {**self.headers(), "Content-Type": "application/json"}
        headers["User-Agent"] = "churn-compare"
        return _call(
            urllib.request.Request(
                f"{self.api_url}{path}", data=data, method=method, headers=headers
            )
        )

    def comments(self, number: int) -> list[dict]:
        found: list[dict] = []
        page = 1
        while True:
            batch = self.request(
                "GET", f"{self.list_path(number)}?per_page={self.PAGE}&page={page}"
            )
            found.extend(batch)
            if len(batch) < self.PAGE:
                return found
            page += 1

    def upsert(self, number: int, body: str, marker: str = MARKER) -> tuple[str, int]:
        """Update the comment that holds ``marker``, or create it: ("updated"|"created", id)."""
        if len(body) > self.MAX_BODY:
            note = "\n\n*(report truncated: see the CI artifact for all of it)*\n"
            body = body[: self.MAX_BODY - len(note)] + note
        mine = [c for c in self.comments(number) if marker in (c.get("body") or "")]
        if mine:
            comment_id = mine[0]["id"]
            self.request(self.EDIT, self.item_path(number, comment_id), {"body": body})
            return "updated", comment_id
        created = self.request("POST", self.list_path(number), {"body": body})
        return "created", created["id"]


class GitHub(CommentThread):
    """Issue comments of a GitHub pull request (REST v3)."""

    def __init__(self, api_url: str, repository: str, token: str) -> None:
        super().__init__(api_url, token)
        self.repository = repository

    def headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
        }

    def list_path(self, number: int) -> str:
        return f"/repos/{self.repository}/issues/{number}/comments"

    def item_path(self, number: int, comment_id: int) -> str:
        return f"/repos/{self.repository}/issues/comments/{comment_id}"


class GitLab(CommentThread):
    """Notes of a GitLab merge request (REST v4); images go to the project's uploads."""

    EDIT = "PUT"
    MAX_BODY = 1_000_000

    def __init__(self, api_url: str, project: str, token: str) -> None:
        super().__init__(api_url, token)
        self.project = urllib.parse.quote(str(project), safe="")

    def headers(self) -> dict[str, str]:
        return {"PRIVATE-TOKEN": self.token}

    def list_path(self, number: int) -> str:
        return f"/projects/{self.project}/merge_requests/{number}/notes"

    def item_path(self, number: int, comment_id: int) -> str:
        return f"{self.list_path(number)}/{comment_id}"

    def upload(self, file: Path) -> str:
        """Store ``file`` on this GitLab instance (project uploads); return its Markdown URL."""
        boundary = "churn-compare-" + hashlib.sha256(Path(file).read_bytes()).hexdigest()[:24]
        body = b"".join(
            [
                f"--{boundary}\r\n".encode(),
                b'Content-Disposition: form-data; name="file"; filename="'
                + Path(file).name.encode()
                + b'"\r\n',
                b"Content-Type: image/png\r\n\r\n",
                Path(file).read_bytes(),
                f"\r\n--{boundary}--\r\n".encode(),
            ]
        )
        headers = {
            **self.headers(),
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "User-Agent": "churn-compare",
        }
        result = _call(
            urllib.request.Request(
                f"{self.api_url}/projects/{self.project}/uploads",
                data=body,
                method="POST",
                headers=headers,
            )
        )
        return result["url"]


# --- command line --------------------------------------------------------------------------

CLI_HELP = """Post the comparison report (the `compare` command) on a pull request (GitHub)
or merge request (GitLab) as ONE comment, updated in place on every push (found by a
hidden marker in its first line). Images never go to a third party:

  GitHub  --images-branch B: the PNGs are committed to orphan branch B of the same
          repository and linked by commit id (needs `contents: write`). Without it the
          images are replaced by a pointer to the workflow artifact.
  GitLab  the PNGs are uploaded to the project's uploads on the same GitLab instance.

Environment: GitHub Actions sets GITHUB_REPOSITORY, GITHUB_API_URL, GITHUB_SERVER_URL;
pass GITHUB_TOKEN. GitLab CI sets CI_PROJECT_ID, CI_API_V4_URL, CI_MERGE_REQUEST_IID;
GITLAB_TOKEN must be a project access token with the `api` scope (a masked CI variable).

  python -m churn.experiments pr-comment --report reports/compare/report.md --pr 12 \\
      --images-branch compare-images
  python -m churn.experiments pr-comment --platform gitlab --report reports/compare/report.md
"""


def github_urls(args: argparse.Namespace, folder: Path, links: list[str]) -> dict[str, str]:
    if not (args.images_branch and links):
        return {}
    prefix = f"pr-{args.pr}"
    commit = publish_images(
        [(folder / link, f"{prefix}/{link}") for link in links],
        Path.cwd(),
        args.images_branch,
        f"Comparison images for pull request #{args.pr}",
        remote=args.remote,
    )
    print(f"pushed {len(links)} images to {args.images_branch} at {commit[:10]}")
    base = f"{args.server_url.rstrip('/')}/{args.repository}/blob/{commit}/{prefix}"
    return {link: f"{base}/{link}?raw=true" for link in links}


def main(argv: list[str] | None = None) -> int:
    env = os.environ.get
    p = argparse.ArgumentParser(
        prog="python -m churn.experiments pr-comment",
        description=CLI_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--report", type=Path, required=True, help="the Markdown report")
    p.add_argument("--platform", choices=["github", "gitlab"], default="github")
    p.add_argument(
        "--pr",
        type=int,
        default=int(env("CI_MERGE_REQUEST_IID", "0")) or None,
        help="pull request number / merge request IID",
    )
    p.add_argument("--repository", default=env("GITHUB_REPOSITORY"), help="GitHub owner/name")
    p.add_argument("--project", default=env("CI_PROJECT_ID"), help="GitLab project id or path")
    p.add_argument("--api-url", help="REST API root (default from the CI environment)")
    p.add_argument("--server-url", default=env("GITHUB_SERVER_URL", "https://github.com"))
    p.add_argument("--images-branch", help="GitHub: branch of this repository for the images")
    p.add_argument("--remote", default="origin", help="git remote to push the images to")
    p.add_argument("--run-url", help="link to the CI run (its artifact holds the report)")
    args = p.parse_args(argv)

    if args.platform == "github":
        token, target = env("GITHUB_TOKEN"), args.repository
        api_url = args.api_url or env("GITHUB_API_URL", "https://api.github.com")
    else:
        token, target = env("GITLAB_TOKEN"), args.project
        api_url = args.api_url or env("CI_API_V4_URL")
    required = {"token": token, "repository/project": target, "--pr": args.pr, "--api-url": api_url}
    missing = [name for name, value in required.items() if not value]
    if missing:
        print(f"pr_comment: ERROR: missing {', '.join(missing)} (see --help)", file=sys.stderr)
        return 1
    try:
        markdown = args.report.read_text(encoding="utf-8")
        folder = args.report.parent
        links = image_paths(markdown)
        if args.platform == "github":
            thread = GitHub(api_url, target, token)
            urls = github_urls(args, folder, links)
        else:
            thread = GitLab(api_url, target, token)
            urls = {link: thread.upload(folder / link) for link in links}
        body = rewrite_images(markdown, urls.get)
        if args.run_url:
            body += f"\n[CI run and report artifact]({args.run_url})\n"
        action, comment_id = thread.upsert(args.pr, body)
    except (ChurnError, OSError) as exc:
        print(f"pr_comment: ERROR: {exc}", file=sys.stderr)
        return 1
    print(f"{action} comment {comment_id} on {target}#{args.pr}")
    return 0
