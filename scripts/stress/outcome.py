"""What a stress case reports: its figures (one table row) and the goals it missed."""
import os
from dataclasses import dataclass, field


@dataclass
class Scale:
    """How hard a case pushes: `full` is `make stress`, `small` a few seconds per case
    (what `make test` runs)."""
    name: str

    @property
    def full(self):
        return self.name == "full"

    def pick(self, small, full):
        return full if self.full else small

    @staticmethod
    def from_env(default="full"):
        name = os.environ.get("STRESS_SCALE", default) or default
        if name not in ("small", "full"):
            raise SystemExit(f"STRESS_SCALE={name!r}: use small or full")
        return Scale(name)


@dataclass
class Outcome:
    """One case's row: ordered figures, and each goal missed as one sentence naming what was
    seen (the issue-9 item it is, where one applies)."""
    case: str
    figures: dict = field(default_factory=dict)
    failures: list = field(default_factory=list)

    def figure(self, name, value):
        self.figures[name] = value

    def expect(self, ok, failure):
        """Records `failure` unless `ok`; returns `ok`."""
        if not ok:
            self.failures.append(failure)
        return ok

    @property
    def passed(self):
        return not self.failures

    def summary(self):
        figures = ", ".join(f"{k} {v}" for k, v in self.figures.items())
        misses = "; ".join(self.failures)
        return f"{self.case}: {figures}" + (f"\n  MISSED: {misses}" if misses else "")
