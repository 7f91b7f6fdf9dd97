#!/usr/bin/env python3
"""Post the comparison report (scripts/compare.py) on a GitHub pull request as ONE comment,
updated in place on every push (found by a hidden marker in its first line).

Images: with --images-branch, the report's PNGs are committed to that orphan branch of
the same repository and linked by commit id (needs `contents: write`); without it, the
images are replaced by a pointer to the workflow artifact. Nothing goes to a third party.

Environment: GITHUB_TOKEN (required), GITHUB_REPOSITORY, GITHUB_API_URL, GITHUB_SERVER_URL
(set by GitHub Actions).

  python scripts/pr_comment.py --report reports/compare/report.md --pr 12 \\
      --images-branch compare-images
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from churn.errors import ChurnError
from churn.pr_comment import GitHub, image_paths, publish_images, rewrite_images


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--report", type=Path, required=True, help="the Markdown report")
    p.add_argument("--pr", type=int, required=True, help="pull request number")
    p.add_argument("--repository", default=os.environ.get("GITHUB_REPOSITORY"), help="owner/name")
    p.add_argument("--api-url", default=os.environ.get("GITHUB_API_URL", "https://api.github.com"))
    p.add_argument(
        "--server-url", default=os.environ.get("GITHUB_SERVER_URL", "https://github.com")
    )
    p.add_argument("--images-branch", help="branch of this repository that holds the images")
    p.add_argument("--remote", default="origin", help="git remote to push the images to")
    p.add_argument("--run-url", help="link to the workflow run (its artifact has the report)")
    args = p.parse_args()
    token = os.environ.get("GITHUB_TOKEN")
    if not token or not args.repository:
        print("pr_comment: ERROR: GITHUB_TOKEN and --repository are required", file=sys.stderr)
        return 1
    try:
        markdown = args.report.read_text(encoding="utf-8")
        folder = args.report.parent
        urls: dict[str, str] = {}
        links = image_paths(markdown)
        if args.images_branch and links:
            prefix = f"pr-{args.pr}"
            commit = publish_images(
                [(folder / link, f"{prefix}/{link}") for link in links],
                Path.cwd(),
                args.images_branch,
                f"Comparison images for pull request #{args.pr}",
                remote=args.remote,
            )
            base = f"{args.server_url.rstrip('/')}/{args.repository}/blob/{commit}/{prefix}"
            urls = {link: f"{base}/{link}?raw=true" for link in links}
            print(f"pushed {len(links)} images to {args.images_branch} at {commit[:10]}")
        body = rewrite_images(markdown, urls.get)
        if args.run_url:
            body += f"\n[Workflow run and report artifact]({args.run_url})\n"
        action, comment_id = GitHub(args.api_url, args.repository, token).upsert(args.pr, body)
    except (ChurnError, OSError) as exc:
        print(f"pr_comment: ERROR: {exc}", file=sys.stderr)
        return 1
    print(f"{action} comment {comment_id} on {args.repository}#{args.pr}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
