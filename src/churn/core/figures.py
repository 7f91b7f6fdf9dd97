"""Figures as deterministic PNG bytes: the same data always gives the same image.

DVC versions the images, so they must not change from run to run: figures use
matplotlib's object-oriented API (no pyplot state, no GUI backend), one font, and
are saved without the ``Software`` metadata (which names the matplotlib version).
matplotlib is imported only when something is drawn.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Settings under which every figure is drawn and saved.
RC = {"svg.hashsalt": "churn", "svg.fonttype": "path", "font.family": "DejaVu Sans"}


def new_figure(
    width: float, height: float, layout: Literal["constrained", "tight"] | None = "constrained"
) -> Figure:
    """An empty figure of ``width`` x ``height`` inches."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout=layout)


def png(fig: Figure, dpi: int) -> bytes:
    """The figure as PNG bytes that depend only on its content (no software/version tag)."""
    from matplotlib import rc_context

    buffer = io.BytesIO()
    with rc_context(RC):
        fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


def draw_png(draw: Callable[..., Figure], *args: Any, dpi: int) -> bytes:
    """``draw(*args)`` under the shared settings, as PNG bytes."""
    from matplotlib import rc_context

    with rc_context(RC):
        fig = draw(*args)
    return png(fig, dpi)


def _draw_job(job: tuple[Callable[..., Figure], tuple[Any, ...]], dpi: int) -> bytes:
    draw, args = job
    return draw_png(draw, *args, dpi=dpi)


def draw_pngs(
    jobs: Sequence[tuple[Callable[..., Figure], tuple[Any, ...]]], dpi: int, processes: int = 1
) -> list[bytes]:
    """``draw_png(draw, *args)`` of each ``(draw, args)`` of ``jobs``, in order.

    matplotlib draws on one core: with ``processes`` above one, the figures are drawn
    side by side in that many worker processes (``draw`` and ``args`` must pickle).
    A figure's bytes depend only on its content, not on the process that drew it.
    """
    if processes <= 1 or len(jobs) <= 1:
        return [_draw_job(job, dpi) for job in jobs]
    from churn.core.compute import LocalEngine

    return LocalEngine(processes).run(partial(_draw_job, dpi=dpi), jobs)


def write_png(data: bytes, path: str | Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
