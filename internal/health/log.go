package health

import (
	"context"
	"log/slog"
)

// LogTransitions returns an Observer that logs each change of a check's
// status and of readiness once, when it happens, rather than on every run.
func LogTransitions(logger *slog.Logger) Observer { return transitionLogger{logger} }

type transitionLogger struct{ logger *slog.Logger }

func (l transitionLogger) Published(prev, next *Snapshot, _ *Run) {
	for i, c := range next.Checks {
		before, after := prev.Checks[i].Status(), c.Status()
		if before == after {
			continue
		}
		attrs := []any{"check", c.Name, "from", before, "to", after, "generation", next.Generation}
		if c.Last != nil && !c.Last.OK() {
			attrs = append(attrs, "reason", c.Last.Reason, "err", c.Last.Error)
		}
		level := slog.LevelInfo
		if after == StatusFailing || after == StatusStale {
			level = slog.LevelWarn
		}
		l.logger.Log(context.Background(), level, "check status changed", attrs...)
	}
	if prev.Readiness != next.Readiness {
		l.logger.Info("readiness changed", "from", prev.Readiness, "to", next.Readiness, "generation", next.Generation)
	}
}
