# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Churn: the pipeline's outputs, explored
#
# This notebook reads what `dvc repro` produced (the splits, the predictions, the
# decision threshold, the metrics and the explanations) through `dvc.api`, so it works
# on any version of the pipeline: set `REV` below to a git tag, branch or commit
# (`"churn-v1"`, `"main"`) and the files of that revision come from the DVC cache or
# remote; leave it `None` to read the workspace (after `make repro`).
#
# Every computation that the pipeline also makes is called from the library
# (`src/churn`), so the numbers here are the pipeline's: the profit model
# (`churn.evaluate.business`), the metrics per segment (`churn.report.segments`), the
# data contract (the problem file's, read for the same revision). What is new here is
# the slicing and the plots.
#
# 1. [The data](#1.-The-data)
# 2. [The model's errors by segment](#2.-The-model's-errors-by-segment)
# 3. [The threshold trade-off](#3.-The-threshold-trade-off)
# 4. [The explanations](#4.-The-explanations)
#
# The text is kept in git as `notebooks/analysis.py` (jupytext "percent" format):
# `make notebook` opens it in JupyterLab as a notebook, paired with an `.ipynb` that
# git ignores, so a review shows code and prose, not outputs.

# %% tags=["parameters"]
REV = None  # a git tag, branch or commit; None: the workspace
REPO = None  # the repository's root folder; None: found upwards from the current folder

# %%
import io
import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import yaml
from dvc.api import DVCFileSystem
from IPython.display import Markdown, display

from churn.core.decision import Decision
from churn.core.paths import LOCK_FILE, PIPELINE_FILE, parse_paths
from churn.core.problem import ProblemParams, parse_problem
from churn.evaluate.business import (
    Economics,
    best_threshold,
    cumulative_gains,
    lift_at,
    profit_curve,
    threshold_grid,
)
from churn.report.segments import join_predictions, segment_metrics

pd.set_option("display.precision", 3)
pd.set_option("display.width", 120)
plt.rcParams.update({"figure.dpi": 80, "axes.grid": True, "grid.alpha": 0.3})

# %% [markdown]
# ## Loading a revision's outputs
#
# `DVCFileSystem` (from `dvc.api`) sees a revision as one file tree: git-tracked files
# (`dvc.yaml`, the metrics, `models/decision.json`) come from git, DVC-tracked ones
# (the splits, the predictions) from the cache or the remote. The file names come from
# that revision's `dvc.yaml` (`vars: - paths:`), as in the pipeline itself.

# %%
root = (
    Path(REPO)
    if REPO
    else next(p for p in (Path.cwd(), *Path.cwd().parents) if (p / PIPELINE_FILE).exists())
)
fs = DVCFileSystem(str(root), rev=REV)
where = "the workspace" if REV is None else f"revision {REV!r}"


def read_bytes(path: str) -> bytes:
    # From the repository's root: on the workspace, a relative path would be taken
    # from the current folder.
    return fs.read_bytes(f"/{path}")


def read_json(path: str):
    return json.loads(read_bytes(path))


def read_parquet(path: str) -> pd.DataFrame:
    # A table larger than a batch (params.yaml compute.batch_rows) is a folder of parts,
    # read in order as one table. At millions of rows that is gigabytes: sample first.
    if fs.isdir(f"/{path}"):
        parts = sorted(p for p in fs.find(f"/{path}") if p.endswith(".parquet"))
        frames = [pd.read_parquet(io.BytesIO(fs.read_bytes(p))) for p in parts]
        return pd.concat(frames, ignore_index=True)
    return pd.read_parquet(io.BytesIO(read_bytes(path)))


paths = parse_paths(read_bytes(PIPELINE_FILE), f"{PIPELINE_FILE} ({where})")
# The problem (its contract and words) of the same revision: the file params.yaml names.
problem_file = ProblemParams.model_validate(yaml.safe_load(read_bytes("params.yaml"))["problem"])
problem = parse_problem(read_bytes(problem_file.file).decode("utf-8"), problem_file.file)
contract, words = problem.contract, problem.words
decision = Decision.parse(read_bytes(paths["decision"]), paths["decision"], where)
metrics = read_json(f"{paths['live']}/metrics.json")
splits = {
    s: read_parquet(f"{paths['splits']}/{s}.parquet") for s in ("train", "validation", "test")
}
predictions = {
    s: join_predictions(
        read_parquet(f"{paths['predictions']}/{s}.parquet"),
        splits[s],
        contract,
        predictions_file=f"{paths['predictions']}/{s}.parquet",
        split_file=f"{paths['splits']}/{s}.parquet",
    )
    for s in ("validation", "test")
}
# The threshold must belong to the model that dvc.lock records (else this raises).
lock = yaml.safe_load(read_bytes(LOCK_FILE))
recorded = {o["path"]: o["md5"] for st in lock["stages"].values() for o in st.get("outs", [])}
decision.require_model(recorded[paths["model"]])
display(
    Markdown(
        f"Read from **{where}** of `{root.name}`: model md5 `{decision.model_md5}`, "
        f"contact threshold **{decision.threshold:.2f}**, test ROC-AUC "
        f"**{metrics['test']['roc_auc']:.3f}**."
    )
)

# %% [markdown]
# ## 1. The data
#
# The modelling table is split (stratified, seeded) into train, validation and test.
# Exploration below looks at the **training** split only: what is learned from looking
# at validation or test data would leak into the choices made on them.

# %%
label = contract.label
pd.DataFrame.from_dict(
    {
        s: {"customers": len(df), "churners": int(df[label].sum()), "churn rate": df[label].mean()}
        for s, df in splits.items()
    },
    orient="index",
)

# %%
train = splits["train"]
categorical = list(contract.categorical_features)
cols = 4
rows = -(-len(categorical) // cols)
fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 2.2 * rows), layout="constrained")
overall = train[label].mean()
for ax, name in zip(axes.flat, categorical, strict=False):
    rate = train.groupby(name, observed=True)[label].mean()
    rate = rate.reindex([v for v in contract.by_name[name].allowed if v in rate.index])
    ax.barh(rate.index.astype(str), rate.to_numpy(), color="#dd8452")
    ax.axvline(overall, color="#333333", linestyle="--", linewidth=1)
    ax.set_xlim(0, 1)
    ax.set_title(name, fontsize="medium")
    ax.invert_yaxis()
for ax in axes.flat[len(categorical) :]:
    ax.set_visible(False)
fig.suptitle(f"Churn rate by level, training split (dashed: overall {overall:.1%})")
plt.show()

# %%
numeric = list(contract.numeric_features)
fig, axes = plt.subplots(1, len(numeric), figsize=(4.5 * len(numeric), 3), layout="constrained")
for ax, name in zip(np.atleast_1d(axes), numeric, strict=True):
    for value, color in ((0, "#1f77b4"), (1, "#ff7f0e")):
        part = train.loc[train[label] == value, name].dropna()
        ax.hist(part, bins=30, density=True, alpha=0.55, color=color, label=f"{label}={value}")
    ax.set_title(name)
    ax.legend()
fig.suptitle("Numeric inputs of leavers and stayers (training split, densities)")
plt.show()

# %% [markdown]
# ## 2. The model's errors by segment
#
# At the business threshold, a customer is contacted when the predicted probability is
# at least the threshold. Per level of every categorical input, on the **test** split:
# the ROC-AUC within the segment (how well it ranks that segment's customers), the share
# of its leavers the campaign misses, the share of its stayers contacted for nothing,
# and the mean predicted probability against the observed churn rate (calibration).
# `segment_metrics` is the function behind the stakeholder report's model card.

# %%
test = predictions["test"]
threshold = decision.threshold
rows = []
for name in categorical:
    for r in segment_metrics(test, contract, name, threshold):
        part = test[test[name].astype(str) == r["segment"]]
        stayers = part[part[label] == 0]
        rows.append(
            {
                "column": name,
                **r,
                "leavers_missed": None
                if r["positives_reached"] is None
                else 1 - r["positives_reached"],
                "stayers_contacted": float((stayers["probability"] >= threshold).mean())
                if len(stayers)
                else None,
            }
        )
segments = pd.DataFrame(rows)
segments["calibration_gap"] = segments["mean_probability"] - segments["positive_rate"]
segments.sort_values("roc_auc").head(10)

# %% [markdown]
# The segments the model ranks worst. A small segment's ROC-AUC is noisy: read it
# with its number of customers.

# %%
big = segments[segments["rows"] >= 30]
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4.6), layout="constrained")
ax1.scatter(big["positive_rate"], big["mean_probability"], s=big["rows"] / 3, alpha=0.6)
for _, r in big.iterrows():
    if abs(r["calibration_gap"]) > 0.05:
        ax1.annotate(
            f"{r['column']}={r['segment']}",
            (r["positive_rate"], r["mean_probability"]),
            fontsize="x-small",
        )
ax1.plot([0, 1], [0, 1], color="grey", linestyle="--")
ax1.set(
    xlabel="observed churn rate",
    ylabel="mean predicted probability",
    title="Calibration by segment (test; size: customers)",
    xlim=(0, 0.8),
    ylim=(0, 0.8),
)
ax2.scatter(big["stayers_contacted"], big["leavers_missed"], s=big["rows"] / 3, alpha=0.6)
for _, r in big.iterrows():
    if (r["leavers_missed"] or 0) > 0.4 or r["stayers_contacted"] > 0.8:
        ax2.annotate(
            f"{r['column']}={r['segment']}",
            (r["stayers_contacted"], r["leavers_missed"]),
            fontsize="x-small",
        )
ax2.set(
    xlabel="stayers contacted (wasted offers)",
    ylabel="leavers missed",
    title=f"Errors at threshold {threshold:.2f} by segment (test)",
)
plt.show()

# %% [markdown]
# The two kinds of error trade against each other through the threshold: segments
# where customers rarely leave get low scores, so their few leavers are missed; segments
# where many leave are contacted almost entirely, stayers included.

# %% [markdown]
# ## 3. The threshold trade-off
#
# The expected profit per customer of contacting everyone above a threshold, with the
# economics recorded in the decision file (the problem file's `business`). The
# pipeline chose the threshold on **validation**; test only measures it.

# %%
e = decision.economics
econ = Economics(
    clv=e["customer_lifetime_value"],
    offer_cost=e["offer_cost"],
    contact_cost=e["contact_cost"],
    acceptance_rate=e["acceptance_rate"],
)
grid = threshold_grid(e["threshold_step"])
curves = {
    s: pd.DataFrame(profit_curve(df[label].to_numpy(), df["probability"].to_numpy(), grid, econ))
    for s, df in predictions.items()
}
chosen, best_profit = best_threshold(
    predictions["validation"][label].to_numpy(),
    predictions["validation"]["probability"].to_numpy(),
    grid,
    econ,
)
assert chosen == decision.threshold, (chosen, decision.threshold)  # the pipeline's choice
fig, ax = plt.subplots(figsize=(9, 4))
for s, curve in curves.items():
    ax.plot(curve["threshold"], curve["profit_per_customer"], label=s)
ax.axvline(chosen, color="#333333", linestyle="--", linewidth=1)
ax.axvline(econ.break_even_threshold, color="grey", linestyle=":", linewidth=1)
ax.annotate(f"chosen {chosen:.2f}", (chosen, 0), xytext=(-70, 8), textcoords="offset points")
ax.annotate(
    f"break-even {econ.break_even_threshold:.3f}",
    (econ.break_even_threshold, 0),
    xytext=(8, 8),
    textcoords="offset points",
    color="grey",
)
ax.set(
    xlabel="contact when probability >= threshold",
    ylabel="expected profit per customer",
    title="Profit per customer against the threshold",
)
ax.legend()
plt.show()
pd.Series(
    {
        "threshold (validation's best)": chosen,
        "profit per customer, validation": best_profit,
        "profit per customer, test": metrics["test"]["profit_tuned_threshold"],
        "contacted share, test": decision.contacted_share["test"],
        "top-decile lift, test": lift_at(test[label].to_numpy(), test["probability"].to_numpy()),
    }
)

# %% [markdown]
# **How much does the choice depend on the acceptance rate?** It is the least known of
# the assumptions. For each rate, the threshold validation would pick and what it earns
# on test:

# %%
rates = [0.1, 0.2, 0.3, 0.4, 0.5]
y_val, p_val = (
    predictions["validation"][label].to_numpy(),
    predictions["validation"]["probability"].to_numpy(),
)
y_test, p_test = test[label].to_numpy(), test["probability"].to_numpy()
rows = []
for rate in rates:
    alt = Economics(econ.clv, econ.offer_cost, econ.contact_cost, rate)
    t, _ = best_threshold(y_val, p_val, grid, alt)
    rows.append(
        {
            "acceptance rate": rate,
            "threshold": t,
            "contacted (test)": float(np.mean(p_test >= t)),
            "profit per customer (test)": profit_curve(y_test, p_test, np.array([t]), alt)[0][
                "profit_per_customer"
            ],
            "profit if contacting everyone": profit_curve(y_test, p_test, np.array([0.0]), alt)[0][
                "profit_per_customer"
            ],
        }
    )
pd.DataFrame(rows).set_index("acceptance rate")

# %%
gains = pd.DataFrame(cumulative_gains(y_test, p_test))
fig, ax = plt.subplots(figsize=(5.5, 4))
ax.plot([0, *gains["contacted_share"]], [0, *gains["churners_caught"]], label="model")
ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label="random")
ax.axvline(decision.contacted_share["test"], color="#333333", linestyle=":", linewidth=1)
ax.set(
    xlabel="share contacted (highest risk first)",
    ylabel="share of leavers reached",
    title="Cumulative gains (test)",
)
ax.legend()
plt.show()

# %% [markdown]
# ## 4. The explanations
#
# The `explain` stage measures permutation importance on the validation split: how much
# the ROC-AUC drops when one input column is shuffled. Then, for the most important
# inputs, what the model predicts against what happened, level by level (test).

# %%
importance = pd.DataFrame(read_json(f"{paths['explain']}/permutation_importance.json"))
top = importance.head(12).iloc[::-1]
fig, ax = plt.subplots(figsize=(7, 4.5))
ax.barh(top["feature"], top["importance"], xerr=top["std"], color="#1f77b4")
ax.set(xlabel="drop in validation ROC-AUC when shuffled", title="Permutation importance")
plt.show()

# %%
leading = list(importance["feature"].head(3))
fig, axes = plt.subplots(1, len(leading), figsize=(5 * len(leading), 3.4), layout="constrained")
for ax, name in zip(np.atleast_1d(axes), leading, strict=True):
    if name in contract.numeric_features:
        bins = pd.qcut(test[name], q=8, duplicates="drop")
        view = test.groupby(bins, observed=True).agg(
            observed=(label, "mean"), predicted=("probability", "mean")
        )
        x = [f"≤ {iv.right:g}" for iv in view.index]
    else:
        view = pd.DataFrame(segment_metrics(test, contract, name, threshold)).set_index("segment")
        view = view.rename(columns={"positive_rate": "observed", "mean_probability": "predicted"})
        x = list(view.index)
    pos = np.arange(len(x))
    ax.bar(pos - 0.2, view["observed"], width=0.4, label="observed churn rate", color="#ff7f0e")
    ax.bar(pos + 0.2, view["predicted"], width=0.4, label="mean predicted", color="#1f77b4")
    ax.set_xticks(pos, x, rotation=30, ha="right", fontsize="small")
    ax.set_title(name)
fig.legend(*np.atleast_1d(axes)[0].get_legend_handles_labels(), loc="outside lower center", ncols=2)
fig.suptitle("Observed and predicted churn by level of the most important inputs (test)")
plt.show()

# %% [markdown]
# ## Summary

# %%
summary = {
    "revision": where,
    "model md5": decision.model_md5,
    "test ROC-AUC": metrics["test"]["roc_auc"],
    "contact threshold": decision.threshold,
    "profit per customer (test)": metrics["test"]["profit_tuned_threshold"],
    "most important input": importance["feature"].iloc[0],
    "worst-ranked segment (>= 30 customers)": "{column}={segment}".format(
        **big.sort_values("roc_auc").iloc[0][["column", "segment"]]
    ),
}
pd.Series(summary)
