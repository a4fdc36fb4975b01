"""The report of one run, for a person: what ran, the headline figures and their change, plots, tables,
and the config folded away at the bottom.

A recipe declares its headline metrics (`Headline`) and plots (`Plot`); this module does the rest
from the run's metric records, its config and its origin (`run.json`: preset, overrides, resumes).
"""

from __future__ import annotations

from dataclasses import dataclass

from selfevolve.report.html import Report, Table, fmt
from selfevolve.report.plots import line_plot


@dataclass(frozen=True)
class Headline:
    """A figure the reader came for, reported at its first and last logged step with the change."""

    key: str  # the metric, e.g. "eval/all/accuracy"
    label: str  # what a reader calls it, e.g. "held-out accuracy, all types (greedy)"


@dataclass(frozen=True)
class Plot:
    title: str
    keys: tuple[str, ...]


def signed(value: float) -> str:
    return f"{value:+.3f}"


def headline_rows(records: list[dict], headlines: tuple[Headline, ...]) -> list[dict]:
    """One row per headline metric that was logged: first and last value, their steps, and the change."""
    rows = []
    for h in headlines:
        logged = [r for r in records if r.get(h.key) is not None]
        if logged:
            first, last = logged[0], logged[-1]
            rows.append({"figure": h.label, "start": first[h.key], "end": last[h.key],
                         "change": signed(last[h.key] - first[h.key]), "steps": f"{first['step']} → {last['step']}"})
    return rows


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    minutes, s = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {s:02d} s" if minutes else f"{s} s"


def origin_facts(origin: dict) -> dict[str, object]:
    """How the config was made (`run.json`): preset, config file, overrides, and each resume's overrides."""
    facts: dict[str, object] = {"preset": origin.get("preset") or "none (config given directly)"}
    if origin.get("config_file"):
        facts["config file"] = origin["config_file"]
    if origin.get("overrides"):
        facts["overrides"] = " ".join(f"--set {o}" for o in origin["overrides"])
    for i, overrides in enumerate(origin.get("resumes", []), 1):
        facts[f"resume {i}"] = " ".join(f"--set {o}" for o in overrides) or "as saved"
    return facts


def run_facts(cfg: dict, origin: dict, records: list[dict]) -> dict[str, object]:
    """What ran: model, preset (and how it was changed), steps, seed, control, wall time."""
    last = records[-1] if records else {}
    facts = {"model": cfg.get("model"), **origin_facts(origin),
             "steps": f"{last.get('step', 0)} of {cfg.get('steps')}", "seed": cfg.get("seed")}
    if "control" in cfg:
        facts["control"] = cfg["control"]
    facts["wall time"] = duration(last.get("time/elapsed"))
    return facts


def run_report(title: str, cfg: dict, config_yaml: str, origin: dict, records: list[dict],
               headlines: tuple[Headline, ...], plots: tuple[Plot, ...], tables: list[Table]) -> Report:
    """The report of a run from its metric records (one dict per logged step)."""
    rows = headline_rows(records, headlines)
    notes = []
    if rows:
        top = rows[0]
        notes.append(f"{top['figure'][0].upper()}{top['figure'][1:]}: {fmt(top['start'])} → {fmt(top['end'])} "
                     f"({top['change']}) over steps {top['steps']}.")
    warnings = []
    if cfg.get("control", "none") != "none":
        warnings.append(f"This run is a control ({cfg['control']}): the same compute without the learning signal. "
                        "Its change is the bar the learning run's change must clear, not a result of the method.")
    figures = [line_plot(records, list(p.keys), p.title) for p in plots]
    return Report(
        title=title, facts=run_facts(cfg, origin, records), notes=notes, warnings=warnings,
        headline=Table("Headline figures: first and last evaluation", rows) if rows else None,
        figures=[f for f in figures if f is not None], tables=tables, config=config_yaml,
    )
