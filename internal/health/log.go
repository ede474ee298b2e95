package health

import (
	"context"
	"log/slog"
)

// LogTransitions returns an Observer that logs each change of a check's
// status and of readiness once, when it happens, rather than on every run.
func LogTransitions(logger *slog.Logger) Observer { return transitionLogger{logger} }

type transitionLogger struct{ logger *slog.Logger }

// Published logs with the run's context, so that a handler adding trace and
// span ids can tie the line to the run's span.
func (l transitionLogger) Published(ctx context.Context, prev, next *Snapshot, _ *Run) {
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
		l.logger.Log(ctx, level, "check status changed", attrs...)
	}
	if prev.Readiness != next.Readiness {
		l.logger.InfoContext(ctx, "readiness changed", "from", prev.Readiness, "to", next.Readiness, "generation", next.Generation)
	}
}
