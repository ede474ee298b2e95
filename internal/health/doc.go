// Package health is the engine of dbhealth-exporter: it runs checks on a
// schedule and publishes their results into one immutable Snapshot per
// generation. Probes, metrics and spans are all derived from that snapshot,
// so they can never disagree, and none of them touches the database.
//
// The pieces, top-down:
//
//   - A [Definition] names a check, its [Checker] and its schedule
//     (interval, timeout, thresholds, critical flag).
//   - The [Engine] hands the definitions to github.com/alexliesenfeld/health,
//     which schedules them, applies timeouts and recovers panics. An
//     interceptor turns every finished run into a [Run] and publishes it.
//   - The [Store] folds each run into a new [Snapshot]: it applies the
//     failure/success thresholds ([NextState]), marks results older than their
//     staleness bound as stale, and computes the readiness verdict once
//     ([Verdict]). Handlers only read [Store.Snapshot].
//
// Usage:
//
//	engine, err := health.NewEngine([]health.Definition{{
//		Name: "database", Checker: db, Critical: true,
//	}}, health.WithTarget("default"))
//	go engine.Run(ctx)
//	snap := engine.Store().Snapshot() // what /readyz and /metrics read
package health
