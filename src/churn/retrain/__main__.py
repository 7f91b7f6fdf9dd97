"""Close the loop: retrain on new labelled data, challenge the model in service, promote or not.

  python -m churn.retrain status          what the policy decides now, and why (read only)
  python -m churn.retrain register        put HEAD's model in the registry, in service
  python -m churn.retrain window          assemble the challenger's data in data/retrain
  python -m churn.retrain challenge       window + train the challenger (dvc exp run) +
                                          champion against challenger (the challenge stage)
  python -m churn.retrain promote --experiment NAME --approved-by NAME
                                          commit, push, register, put in service, switch
  python -m churn.retrain rollback --by NAME
                                          put the previous version back in service
  python -m churn.retrain run             the unattended loop: status, then challenge if the
                                          policy says so, then promote if approval is automatic
  python -m churn.retrain log             the audit log (--verify checks its chain)
  python -m churn.retrain demo            the whole loop on the simulated stream, in a copy
                                          of the repository (make retrain-demo)

Settings: `retrain` in params.yaml (README, "Retraining"). Each command has --help.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from churn.core.cli import parser, run
from churn.core.errors import ChurnError
from churn.core.io import to_json


def _root(args: argparse.Namespace) -> Path:
    return Path(args.root).resolve()


def _audit_path(root: Path) -> Path:
    from churn.retrain.loop import Repo

    return root / Repo(root).params().audit_log


def _say(text: str = "") -> None:
    print(text, flush=True)


# --- status ---------------------------------------------------------------------------------


def policy_decision(root: Path):
    """The policy applied to the monitor's verdicts for the model in service."""
    from churn.core.errors import DataError
    from churn.retrain import policy
    from churn.retrain.loop import Repo, champion

    repo = Repo(root)
    params = repo.params()
    champ = champion(repo, params.promotion.stage)
    verdicts_path = root / repo.paths()["monitor"] / "verdicts.json"
    try:
        document = json.loads(verdicts_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(
            "no monitoring verdicts", file=str(verdicts_path), hint="run `make monitor` first"
        ) from None
    periods = [policy.Period.from_verdict(p) for p in document.get("periods", [])]
    who = policy.Champion(champ.md5, champ.name, champ.seen_through)
    return champ, policy.decide(periods, who, params.policy), document


def simulated_note(document: dict[str, Any]) -> str | None:
    """Why a challenger cannot be trained on these verdicts' periods (None: it can)."""
    simulated = document.get("simulated")
    if not simulated:
        return None
    return (
        f"the monitor's verdicts are about the SIMULATED stream of `make repro` "
        f"({simulated.get('stream')}), not the prediction log, and a challenger's window is "
        "assembled from the prediction log's labelled periods\n"
        "  what to do: set `stream.months: []` in params.yaml so that the monitor reads the "
        "prediction log (make monitor), or run the whole loop on a simulated log with "
        "`make retrain-demo`"
    )


def status(args: argparse.Namespace) -> None:
    champ, decision, document = policy_decision(_root(args))
    if args.json:
        _say(
            to_json({"retrain": decision.retrain, "reasons": decision.reasons, **decision.figures})
        )
        return
    seen = champ.seen_through or "the original data only"
    _say(f"model in service: {champ.name} ({champ.rev}, model {champ.md5}); seen: {seen}")
    periods = [p["period"] for p in document.get("periods", [])]
    span = f"{periods[0]} .. {periods[-1]}" if periods else "none"
    _say(
        f"monitored periods: {len(periods)} ({span}); new since: {len(decision.new_periods)}; "
        f"new labelled rows: {decision.new_labelled:,}"
    )
    _say(f"decision: {'RETRAIN' if decision.retrain else 'no retraining'}")
    for rule in decision.rules:
        _say(f"  [{'x' if rule.fired else ' '}] {rule.reason}")
    note = simulated_note(document)
    if note:
        _say(f"note: {note}")


# --- register ---------------------------------------------------------------------------------


def register(args: argparse.Namespace) -> None:
    from churn.retrain import audit
    from churn.retrain.loop import MODEL_STAGE, LoopError, Repo
    from churn.retrain.registry import Registry

    root = _root(args)
    repo = Repo(root)
    params = repo.params()
    repo.require_clean("register")
    # The model and its decision must be what their inputs give (the rest may lag).
    stale = repo.dvc("status", "--with-deps", MODEL_STAGE, "--json").strip()
    if stale not in ("{}", ""):
        raise LoopError(
            f"the model is not up to date (`dvc status --with-deps {MODEL_STAGE}`): {stale}\n"
            "  what to do: `dvc repro`, commit, then register"
        )
    registry = Registry(root)
    head = repo.head()
    message = (
        f"{registry.artifact}: the model the pipeline trained at {head[:12]}, registered by "
        f"{args.by}"
    )
    version = registry.register(head, message)
    stage = params.promotion.stage
    assigned = None
    if registry.in_stage(stage) is None:
        assigned = registry.assign(version, stage, f"{message}; put in {stage}")
    if params.promotion.push:
        repo.dvc("push", "--with-deps", MODEL_STAGE)
    audit.append(
        _audit_path(root),
        "register",
        "registered",
        by=args.by,
        reasons=[message + (f"; in service ({assigned.tag})" if assigned else "")],
        figures={"tag": version.tag, "commit": head, "stage": stage if assigned else None},
    )
    _say(f"registered {version.tag} ({head[:12]})" + (f", in {stage}" if assigned else ""))


# --- window -----------------------------------------------------------------------------------


def window(args: argparse.Namespace) -> dict[str, Any]:
    from churn.core.problem import load_problem
    from churn.retrain import audit
    from churn.retrain.loop import LoopError, Repo, assemble_window, champion

    root = _root(args)
    repo = Repo(root)
    params = repo.params()
    verdicts = root / repo.paths()["monitor"] / "verdicts.json"
    if verdicts.exists():
        note = simulated_note(json.loads(verdicts.read_text(encoding="utf-8")))
        if note:
            raise LoopError(f"no window: {note}")
    champ = champion(repo, params.promotion.stage)
    problem = load_problem(root / "params.yaml", root)
    _, manifest = assemble_window(repo, params, problem, champ)
    summary = {k: manifest[k] for k in ("kind", "trained_periods", "holdout_periods", "rows")}
    audit.append(
        _audit_path(root),
        "window",
        "assembled",
        by=args.by,
        reasons=[
            f"window ({manifest['kind']}): {manifest['window_rows']:,} rows, trained periods "
            f"{', '.join(manifest['trained_periods']) or 'none'}; held out: "
            f"{', '.join(manifest['holdout_periods'])}; champion {champ.name}"
        ],
        figures={**summary, "evidence_rows": manifest["evidence_rows"]},
    )
    _say(f"assembled {repo.paths()['retrain']} (tracked by DVC): {to_json(summary).strip()}")
    return manifest


# --- challenge --------------------------------------------------------------------------------


def challenge(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """Window, the challenger's experiment, its challenge; the workspace back to HEAD."""
    from churn.retrain import audit
    from churn.retrain.loop import (
        CHALLENGE_STAGE,
        LoopError,
        Repo,
        challenge_result,
        challenger_params,
        compare_report,
        experiment_name,
        read_manifest,
        restore,
        train_challenger,
    )

    root = _root(args)
    repo = Repo(root)
    retrain_dvc = f"{repo.paths()['retrain']}.dvc"
    repo.require_clean("challenge", allow=(retrain_dvc,) if args.keep_window else ())
    params = repo.params()
    if args.keep_window:
        manifest = read_manifest(repo)
        audit.append(
            _audit_path(root),
            "window",
            "kept",
            by=args.by,
            reasons=[
                f"the challenger trains on {repo.paths()['retrain']} as it is tracked now "
                f"({retrain_dvc}), not on a newly assembled window"
            ],
            figures={k: manifest[k] for k in ("kind", "trained_periods", "holdout_periods")},
        )
    else:
        manifest = window(args)
    name = args.name or experiment_name(repo, f"challenger-{manifest['seen_through']}")
    updates = challenger_params(repo, params)
    _say(f"training the challenger: dvc exp run -n {name} (then {CHALLENGE_STAGE})")
    report = None
    try:
        try:
            train_challenger(repo, name, updates, args.until_challenge)
        except LoopError as exc:
            audit.append(
                _audit_path(root),
                "challenge",
                "failed",
                by=args.by,
                reasons=[f"the challenger's experiment {name} failed: {exc}"],
                figures={"experiment": name},
            )
            raise
        record, metrics = challenge_result(repo)
        if not args.no_report:
            report = compare_report(repo, "HEAD", root / "reports" / "compare")
    finally:
        restore(repo)
    audit.append(
        _audit_path(root),
        "challenge",
        record["status"],
        by=args.by,
        reasons=record["reasons"],
        figures={"experiment": name, "champion": record["champion"], "metrics": metrics},
    )
    _say(f"challenger {name}: {record['status'].upper()}")
    for reason in record["reasons"]:
        _say(f"  - {reason}")
    if report is not None:
        _say(f"compare report (for the pull request): {report}")
    return name, record


# --- promote ----------------------------------------------------------------------------------


def _switch_service(root: Path, url: str | None, rev: str, by: str, action: str) -> None:
    from churn.retrain import audit
    from churn.retrain.service import ServiceError, reload

    if not url:
        _say("no service to switch (retrain.promotion.service_url is null)")
        return
    try:
        switch = reload(url, rev)
    except ServiceError as exc:
        audit.append(
            _audit_path(root),
            "serve",
            "switch failed",
            by=by,
            reasons=[f"after the {action}: {exc}"],
            figures={"service": url, "rev": rev},
        )
        raise
    audit.append(
        _audit_path(root),
        "serve",
        "switched",
        by=by,
        reasons=[
            f"the service at {url} switched from {switch.previous_version} to "
            f"{switch.model_version} after the {action}: loaded in {switch.load_seconds:.2f} s "
            f"while serving, switched in {switch.switch_seconds * 1e6:.0f} us"
        ],
        figures={"service": url, "rev": rev, **switch.as_json()},
    )
    _say(
        f"service {url}: {switch.previous_version} -> {switch.model_version} "
        f"(load {switch.load_seconds:.2f} s, switch {switch.switch_seconds * 1e6:.0f} us)"
    )


def promote(args: argparse.Namespace) -> None:
    from churn.retrain import audit
    from churn.retrain.loop import (
        LoopError,
        Repo,
        apply_experiment,
        challenge_result,
        champion,
        commit_promotion,
        record_is_accepted,
        restore,
    )
    from churn.retrain.registry import Registry

    root = _root(args)
    repo = Repo(root)
    repo.require_clean("promote")
    params = repo.params()
    stage = params.promotion.stage
    in_service = champion(repo, stage)
    apply_experiment(repo, args.experiment)
    record, metrics = challenge_result(repo)
    refusal = None
    if not record_is_accepted(record):
        refusal = f"experiment {args.experiment} was {record['status']} by the rule: " + "; ".join(
            record.get("reasons", [])
        )
    elif record["champion"]["md5"] != in_service.md5:
        refusal = (
            f"experiment {args.experiment} challenged model {record['champion']['md5']}, but "
            f"{in_service.name} ({in_service.md5}) is in service now: challenge it again"
        )
    if refusal:
        restore(repo)
        audit.append(
            _audit_path(root),
            "promote",
            "refused",
            by=args.approved_by,
            reasons=[refusal],
            figures={"experiment": args.experiment},
        )
        raise LoopError(refusal)
    registry = Registry(root)
    name = registry.next_version()
    headline = (
        f"{registry.artifact} {name}: challenger {args.experiment} replaces "
        f"{in_service.name}, approved by {args.approved_by}"
    )
    message = headline + "\n\n" + "\n".join(f"- {r}" for r in record["reasons"])
    try:
        commit = commit_promotion(repo, message)
    except ChurnError:
        restore(repo)
        raise
    if params.promotion.push:
        repo.dvc("push")
    version = registry.register(commit, message)
    assignment = registry.assign(version, stage, message)
    audit.append(
        _audit_path(root),
        "promote",
        "promoted",
        by=args.approved_by,
        reasons=[
            f"{version.tag} (commit {commit[:12]}) replaces {in_service.name} in {stage} "
            f"({assignment.tag})",
            *record["reasons"],
        ],
        figures={
            "experiment": args.experiment,
            "tag": version.tag,
            "assignment": assignment.tag,
            "commit": commit,
            "previous": in_service.facts(),
            "metrics": metrics,
            "pushed": params.promotion.push,
        },
    )
    _say(f"promoted: {version.tag} ({commit[:12]}) in {stage} ({assignment.tag})")
    _switch_service(
        root, args.service_url or params.promotion.service_url, version.tag, args.approved_by,
        "promotion",
    )  # fmt: skip


# --- rollback ---------------------------------------------------------------------------------


def rollback(args: argparse.Namespace) -> None:
    from churn.retrain import audit
    from churn.retrain.loop import Repo
    from churn.retrain.registry import Registry, RegistryError

    root = _root(args)
    repo = Repo(root)
    params = repo.params()
    stage = params.promotion.stage
    registry = Registry(root)
    current = registry.in_stage(stage)
    if current is None:
        raise RegistryError(f"nothing is in {stage}: nothing to roll back")
    target = registry.version(args.to) if args.to else registry.previous_in_stage(stage)
    if target is None:
        raise RegistryError(f"{current.tag} is the only version {stage} has held: no previous one")
    if target == current:
        raise RegistryError(f"{current.tag} is already in {stage}")
    message = (
        f"{registry.artifact}: roll back {stage} from {current.name} to {target.name}, by "
        f"{args.by}" + (f": {args.reason}" if args.reason else "")
    )
    assignment = registry.assign(target, stage, message)
    audit.append(
        _audit_path(root),
        "rollback",
        "rolled back",
        by=args.by,
        reasons=[message],
        figures={"from": current.tag, "to": target.tag, "assignment": assignment.tag},
    )
    _say(f"rolled back: {target.tag} in {stage} ({assignment.tag}), was {current.tag}")
    _switch_service(
        root, args.service_url or params.promotion.service_url, target.tag, args.by, "rollback"
    )


# --- run --------------------------------------------------------------------------------------


def loop(args: argparse.Namespace) -> None:
    from churn.retrain import audit
    from churn.retrain.loop import Repo

    root = _root(args)
    params = Repo(root).params()
    champ, decision, _ = policy_decision(root)
    audit.append(
        _audit_path(root),
        "policy",
        "retrain" if decision.retrain else "no retrain",
        by="policy",
        reasons=decision.reasons,
        figures={**decision.figures, "champion_tag": champ.rev},
    )
    _say(f"policy: {'RETRAIN' if decision.retrain else 'no retraining'}")
    for reason in decision.reasons:
        _say(f"  - {reason}")
    if not decision.retrain:
        return
    args.by = "policy"
    name, record = challenge(args)
    if record["status"] != "accepted":
        return
    approver = args.approved_by or (
        "policy (automatic approval)" if params.promotion.approval == "automatic" else None
    )
    if approver is None:
        _say(
            "approval is manual (retrain.promotion.approval): review the compare report, then\n"
            f"  python -m churn.retrain promote --experiment {name} --approved-by YOUR-NAME"
        )
        return
    args.experiment, args.approved_by = name, approver
    promote(args)


# --- log --------------------------------------------------------------------------------------


def show_log(args: argparse.Namespace) -> None:
    from churn.retrain import audit

    path = _audit_path(_root(args))
    if args.verify:
        problems = audit.verify(path)
        if problems:
            for problem in problems:
                _say(f"  {problem}")
            raise ChurnError(
                f"{path}: the audit log's chain is broken ({len(problems)} problem(s))"
            )
        _say(f"{path}: {len(audit.read(path))} entries, chain intact")
        return
    for entry in audit.read(path)[-args.last :] if args.last else audit.read(path):
        if args.json:
            _say(json.dumps(entry, sort_keys=True))
            continue
        _say(
            f"#{entry['seq']} {entry['at']} {entry['action']}: {entry['decision']} "
            f"(by {entry['by']})"
        )
        for reason in entry["reasons"]:
            _say(f"    - {reason}")


# --- demo -------------------------------------------------------------------------------------


def demo(args: argparse.Namespace) -> None:
    from churn.retrain.demo import run_demo, summary

    result = run_demo(
        _root(args),
        Path(args.workspace),
        Path(args.spec),
        rows_per_month=args.rows_per_month,
        replace=args.replace,
    )
    _say(summary(result))


COMMANDS = {
    "status": (status, "what the retraining policy decides now, and why (read only)"),
    "register": (register, "register HEAD's model; put it in service if nothing is"),
    "window": (window, "assemble the challenger's window, the evidence and the champion"),
    "challenge": (challenge, "window, train the challenger (dvc exp run), champion vs challenger"),
    "promote": (promote, "commit, push, register and serve an accepted challenger"),
    "rollback": (rollback, "put the version in service before the current one back"),
    "run": (loop, "the loop: status, then challenge and promote as the policy says"),
    "log": (show_log, "the audit log of every decision"),
    "demo": (demo, "the whole loop on the simulated stream, in a copy of the repository"),
}


def build_parser() -> argparse.ArgumentParser:
    p = parser("churn.retrain", __doc__)
    p.add_argument("--root", default=".", help="repository root (default: .)")
    commands = p.add_subparsers(dest="command", required=True, metavar="command")
    subs = {}
    for name, (_, what) in COMMANDS.items():
        subs[name] = commands.add_parser(name, help=what, description=what)
        subs[name].add_argument("--root", default=argparse.SUPPRESS, help="repository root")
    subs["status"].add_argument("--json", action="store_true", help="print JSON")
    for name in ("register", "window", "challenge"):
        subs[name].add_argument("--by", default="policy", help="who runs it (the audit log)")
    for name in ("challenge", "run"):
        subs[name].add_argument(
            "--name", help="the experiment's name (default: challenger-<period>)"
        )
        subs[name].add_argument(
            "--no-report", action="store_true", help="skip the compare report (plots take seconds)"
        )
        subs[name].add_argument(
            "--until-challenge",
            action="store_true",
            help="run only the stages the challenge needs; the others run at promotion",
        )
        subs[name].add_argument(
            "--keep-window",
            action="store_true",
            help=f"train on {'data/retrain'} as tracked now (e.g. edited), not a new window",
        )
    subs["promote"].add_argument(
        "--experiment", required=True, help="the accepted challenger's experiment"
    )
    for name in ("promote", "run"):
        subs[name].add_argument(
            "--approved-by",
            required=name == "promote",
            help="who approves the promotion (run: approves it in advance)",
        )
    for name in ("promote", "rollback", "run"):
        subs[name].add_argument(
            "--service-url", help="the running service to switch (default: retrain.promotion)"
        )
    subs["rollback"].add_argument("--by", required=True, help="who rolls back (the audit log)")
    subs["rollback"].add_argument("--to", help="the version to put back (default: the previous)")
    subs["rollback"].add_argument("--reason", help="why, in words (the audit log)")
    subs["log"].add_argument("--verify", action="store_true", help="check the chain of the log")
    subs["log"].add_argument("--json", action="store_true", help="one JSON object per line")
    subs["log"].add_argument("--last", type=int, help="only the last N entries")
    subs["demo"].add_argument(
        "--workspace",
        default=str(Path(tempfile.gettempdir()) / "churn-retrain-demo"),
        help="the copy of the repository (default: a folder in the temporary directory)",
    )
    subs["demo"].add_argument(
        "--replace", action="store_true", help="replace a workspace a demo made"
    )
    subs["demo"].add_argument(
        "--spec",
        default="examples/retraining/telco_stream.yaml",
        help="the simulated stream's declaration",
    )
    subs["demo"].add_argument("--rows-per-month", type=int, help="override the spec's")
    return p


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    function = COMMANDS[args.command][0]
    run("retrain", lambda a: function(a), args)


if __name__ == "__main__":
    main(sys.argv[1:])
