package health

import (
	"context"
	"log/slog"
)

// transitionLogger logs each change of a check's status and of readiness
// once, when it happens, rather than on every run.
type transitionLogger struct{ logger *slog.Logger }

// published logs with the run's context, so that a handler adding trace and
// span ids can tie the line to the run's span.
func (l transitionLogger) published(ctx context.Context, prev, next *Snapshot, _ *finishedRun) {
	for _, c := range prev.Checks {
		if _, ok := next.Check(c.Name); !ok {
			l.logger.InfoContext(ctx, "check removed", "check", c.Name, "generation", next.Generation)
		}
	}
	for _, c := range next.Checks {
		before, ok := prev.Check(c.Name)
		if !ok {
			l.logger.InfoContext(ctx, "check added", "check", c.Name, "critical", c.Critical, "generation", next.Generation)
			continue
		}
		if before.Status == c.Status {
			continue
		}
		attrs := []any{"check", c.Name, "from", before.Status, "to", c.Status, "generation", next.Generation}
		if c.Last != nil && !c.Last.OK() {
			attrs = append(attrs, "reason", c.Last.Reason, "err", c.Last.Error)
		}
		level := slog.LevelInfo
		if c.Status == StatusFailing || c.Status == StatusStale {
			level = slog.LevelWarn
		}
		l.logger.Log(ctx, level, "check status changed", attrs...)
	}
	if prev.Readiness != next.Readiness {
		l.logger.InfoContext(ctx, "readiness changed", "from", prev.Readiness, "to", next.Readiness, "generation", next.Generation)
	}
}
