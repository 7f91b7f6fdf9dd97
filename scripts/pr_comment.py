#!/usr/bin/env python3
"""Post the comparison report (scripts/compare.py) on a pull request (GitHub) or merge
request (GitLab) as ONE comment, updated in place on every push (found by a hidden
marker in its first line). Images never go to a third party:

  GitHub  --images-branch B: the PNGs are committed to orphan branch B of the same
          repository and linked by commit id (needs `contents: write`). Without it the
          images are replaced by a pointer to the workflow artifact.
  GitLab  the PNGs are uploaded to the project's uploads on the same GitLab instance.

Environment: GitHub Actions sets GITHUB_REPOSITORY, GITHUB_API_URL, GITHUB_SERVER_URL;
pass GITHUB_TOKEN. GitLab CI sets CI_PROJECT_ID, CI_API_V4_URL, CI_MERGE_REQUEST_IID;
GITLAB_TOKEN must be a project access token with the `api` scope (a masked CI variable).

  python scripts/pr_comment.py --report reports/compare/report.md --pr 12 \\
      --images-branch compare-images
  python scripts/pr_comment.py --platform gitlab --report reports/compare/report.md
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from churn.errors import ChurnError
from churn.pr_comment import GitHub, GitLab, image_paths, publish_images, rewrite_images


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


def main() -> int:
    env = os.environ.get
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
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
    args = p.parse_args()

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


if __name__ == "__main__":
    sys.exit(main())
