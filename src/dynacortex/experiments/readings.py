"""Readings of the cortex metrics against human numbers, beside the recurrence-free twin and the DN model.

For every metric of :mod:`.cortex` and every area, a reading compares the model's value with the range of
its human reference (:mod:`.reference`): "in the human range" only inside it. Where the reference is a target
(no human number offline) it says "meets the target", never "as in cortex"; where it is a direction only
(``range: null``) it checks the direction (FWHM wider in the last area than in the first; recovery times
within a factor of 2 across areas). Each value is shown with the twin's and the DN model's beside it.

A phenomenon is attributed to the recurrent model's dynamics (its recurrence and mechanisms) only where the
model meets the reference and the twin does not; with several seeds, only where in addition the mean paired
difference exceeds 2 SD of the differences across seeds. Where the twin meets it too, the reading says so.
Where the twin has no value in any seed (no transient, no response: it lacks the phenomenon) there is no
paired difference; the reading shows "twin n/a" and credits the recurrent dynamics only if the model has the
value in every seed.
A model near chance (accuracy below chance + 0.1) gets its values reported and no conclusion drawn.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from .cortex import CORTEX_METRICS
from .reference import area_group, cite, entry_key, reference

__all__ = ["Verdict", "cortex_readings", "verdicts", "fmt"]

Metrics = dict[str, dict[str, Optional[float]]]  # area -> metric -> value

LABELS = {
    "onset_latency_ms": "Onset latency (ms, 20 % of peak, 533 ms stimulus)",
    "r_double": "R_double (summed response to 267 ms / twice that to 133 ms)",
    "fwhm_ms": "FWHM of the 17 ms response (ms)",
    "contrast_ttp_shift_ms": "Time-to-peak shift, 6.25 % minus 100 % contrast (ms)",
    "isi_suppression": "ISI suppression at the 17 ms gap (1 - recovery)",
    "recovery_longest_gap": "Recovery at the 533 ms gap",
    "recovery_time_ms": "Gap to 80 % recovery (ms)",
    "sustained_peak_ratio": "Sustained / peak (533 ms stimulus, at 500 ms)",
}


def fmt(v: Optional[float], sd: Optional[float] = None) -> str:
    """3 significant digits, whole numbers from 100 on, 0 below 5e-4 (these metrics are ratios and ms: smaller is
    float noise); ``n/a`` for None, ``mean +- sd`` with an SD."""
    if v is None or not np.isfinite(v):
        return "n/a"

    def one(x: float) -> str:
        return "0" if abs(x) < 5e-4 else f"{x:.0f}" if abs(x) >= 100 else f"{x:.3g}"
    return one(v) if sd is None else f"{one(v)} +- {one(sd)}"


def _stats(runs: Sequence[Metrics], area: str, metric: str) -> tuple[Optional[float], Optional[float], list[float]]:
    vals = [r[area][metric] for r in runs if area in r and r[area].get(metric) is not None]
    vals = [float(v) for v in vals if np.isfinite(v)]
    if not vals:
        return None, None, []
    return float(np.mean(vals)), (float(np.std(vals, ddof=1)) if len(vals) > 1 else None), vals


def _inside(v: Optional[float], rng: Optional[list[float]]) -> bool:
    return v is not None and rng is not None and rng[0] <= v <= rng[1]


class Verdict:
    """One (metric, area) comparison: model (mean, SD), twin, DN, reference entry, and the conclusion."""

    def __init__(self, metric: str, area: str, model: Sequence[Metrics], twin: Sequence[Metrics],
                 dn: Optional[dict[str, Optional[float]]], reason: str = ""):
        self.metric, self.area, self.reason = metric, area, reason
        self.ref = reference(metric, area)
        self.value, self.sd, mv = _stats(model, area, metric)
        self.measured, self.runs = len(mv), len(model)
        self.twin, self.twin_sd, tv = _stats(twin, area, metric)
        # the twin was run and has no value in any seed (no transient, no response): it lacks the phenomenon
        self.twin_lacks = len(twin) > 0 and not tv
        self.dn = None if dn is None else dn.get(metric)
        rng = None if self.ref is None else self.ref.get("range")
        self.meets = _inside(self.value, rng)
        self.twin_meets = _inside(self.twin, rng)
        self.separated = True  # model vs twin across seeds
        if len(mv) > 1 and len(tv) == len(mv):
            diff = np.array(mv) - np.array(tv)
            self.separated = abs(diff.mean()) > 2 * diff.std(ddof=1)

    @property
    def target(self) -> bool:
        return self.ref is not None and self.ref.get("status") == "target"

    @property
    def attributable(self) -> bool:
        """Met, not by the twin, and separated across seeds; against a twin without any value, only when the
        model has one in every seed (no paired difference exists to test)."""
        if self.twin_lacks:
            return self.meets and self.measured == self.runs
        return self.meets and not self.twin_meets and self.separated and self.twin is not None

    def describe(self) -> str:
        parts = [fmt(self.value, self.sd) + (f" ({self.measured} of {self.runs} seeds)"
                                             if 0 < self.measured < self.runs else "")]
        if self.twin is not None or self.twin_lacks:
            parts.append(f"twin {fmt(self.twin, self.twin_sd)}")
        if self.dn is not None:
            parts.append(f"DN {fmt(self.dn)}")
        return f"{self.area} {parts[0]}" + (f" ({', '.join(parts[1:])})" if parts[1:] else "")

    def conclusion(self) -> str:
        if self.ref is None or self.ref.get("range") is None:
            return ""
        if self.value is None:
            return "not measured" + (f": {self.reason}" if self.reason else "")
        inside = ("meets the target" if self.target else "in the human range") if self.meets else \
                 ("misses the target" if self.target else "outside the human range")
        if not self.meets:
            return inside + ("; the twin meets it" if self.twin_meets else "")
        if self.twin_lacks:
            return inside + ("; the twin has none: attributable to the recurrent dynamics" if self.attributable else
                             f"; the twin has none, but the model only in {self.measured} of {self.runs} seeds")
        if self.twin_meets:
            return inside + "; the twin meets it too: not attributable to recurrence"
        if not self.separated:
            return inside + "; not separated from the twin across seeds (difference < 2 SD)"
        return inside + ("; the twin does not: attributable to the recurrent dynamics" if self.twin is not None else "")


def verdicts(model: Sequence[Metrics], twin: Sequence[Metrics] = (), dn: Optional[dict[str, Any]] = None,
             metrics: Sequence[str] = CORTEX_METRICS, reasons: Optional[dict[str, dict[str, str]]] = None
             ) -> dict[str, list[Verdict]]:
    """``{metric: [Verdict per area]}`` (areas in the model's order; where some map to human area groups, only
    those)."""
    areas = list(model[0])
    mapped = [a for a in areas if area_group(a) is not None]
    areas = mapped or areas  # input stages (front-end, retina) have no human counterpart
    why = reasons or {}
    return {m: [Verdict(m, a, model, twin, dn, why.get(a, {}).get(m, "")) for a in areas] for m in metrics}


def _reference_text(vs: list[Verdict]) -> str:
    """E.g. ``human early 0.64-0.69, later 0.5-0.61; Zhou et al. 2018`` from the areas' reference entries."""
    used = [v for v in vs if v.ref is not None]
    if not used:
        return "no human reference"
    ranges: dict[str, str] = {}
    for v in used:
        rng = v.ref.get("range")  # type: ignore[union-attr]
        ranges.setdefault(entry_key(v.metric, v.area), "direction only" if rng is None else f"{fmt(rng[0])}-{fmt(rng[1])}")
    kind = "target" if used[0].target else "human"
    keys = dict.fromkeys(k.strip() for v in used for k in v.ref["source"].split(","))  # type: ignore[index]
    sources = cite(",".join(keys))
    return f"{kind} " + ", ".join(r if k == "all" else f"{k} {r}" for k, r in ranges.items()) + f"; {sources}"


def _direction(metric: str, vs: list[Verdict]) -> str:
    """Checks of the references that give a direction only."""
    vals = [v.value for v in vs]
    twin = [v.twin for v in vs]
    if metric == "fwhm_ms":
        def wider(x: list[Optional[float]]) -> Optional[bool]:
            return None if x[0] is None or x[-1] is None else x[-1] > x[0]
        m, t = wider(vals), wider(twin)
        if m is None:
            return "not measured in the first or last area."
        return (f"{'wider' if m else 'not wider'} in {vs[-1].area} than in {vs[0].area}"
                + ("" if t is None else f" (twin: {'wider' if t else 'not wider'})")
                + (", as the summation windows lengthen up the hierarchy in cortex." if m and not t else
                   "; the twin shows it too." if m and t else "; cortex's summation windows lengthen up the hierarchy."))
    if metric == "recovery_time_ms":
        got = [v for v in vals if v is not None]
        if len(got) < len(vals):
            return "recovery never reaches 80 % in some area."
        ratio = max(got) / min(got)
        gaps = [v.twin for v in vs]
        instant = bool(gaps) and all(g is not None and g <= min(got) / 4 for g in gaps)
        return (f"largest / smallest across areas {fmt(ratio)}: "
                + ("about the same in every area, the direction Groen et al. (2022) report" if ratio <= 2 else
                   "not the same order across areas (Groen et al. 2022: relatively invariant)")
                + ("; the twin recovers at the shortest gap: no adaptation to recover from." if instant else "."))
    return ""


def cortex_readings(model: Sequence[Metrics], twin: Sequence[Metrics] = (), dn: Optional[dict[str, Any]] = None,
                    accuracy: Optional[float] = None, chance: Optional[float] = None,
                    reasons: Optional[dict[str, dict[str, str]]] = None) -> list[str]:
    """One sentence per metric, then which reference points the recurrent model meets and the twin does not."""
    out = []
    near_chance = accuracy is not None and chance is not None and accuracy < chance + 0.1
    if near_chance:
        out.append(f"The model is near chance (accuracy {fmt(accuracy)}, chance {fmt(chance)}): its values are "
                   "reported, and no conclusion about cortex is drawn from them.")
    seeds = f" (mean +- SD over {len(model)} seeds)" if len(model) > 1 else ""
    table = verdicts(model, twin, dn, reasons=reasons)
    for metric, vs in table.items():
        cells = []
        for v in vs:
            c = "" if near_chance else v.conclusion()
            cells.append(v.describe() + (f": {c}" if c else ""))
        tail = "" if near_chance else _direction(metric, vs)
        out.append(f"{LABELS[metric]}{seeds} [{_reference_text(vs)}]: " + "; ".join(cells) + (f". {tail}" if tail else "."))
    if not near_chance and twin:
        mine = [f"{m} in {v.area}" for m, vs in table.items() for v in vs if v.attributable]
        both = [f"{m} in {v.area}" for m, vs in table.items() for v in vs if v.meets and v.twin_meets]
        out.append("Met by the recurrent model and not by its twin: " + (", ".join(mine) if mine else "none") + ".")
        out.append("Met by the twin as well: " + (", ".join(both) if both else "none") + ".")
    return out
