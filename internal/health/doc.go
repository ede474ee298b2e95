// Package health is the engine of dbhealth-exporter: it runs checks on a
// schedule and publishes their results into one immutable Snapshot per
// generation. Probes, metrics and spans are all derived from that snapshot,
// so they can never disagree, and none of them touches the database.
//
// The pieces, top-down:
//
//   - A [Definition] names a check, its [Checker] and its schedule
//     (interval, timeout, thresholds, critical flag).
//   - The [Engine] runs each check in a loop of its own (schedule.go): a
//     run under the check's timeout, with panics recovered and a backstop
//     for a Checker that ignores its deadline, then a pause of one interval.
//   - Every finished run is folded into a new [Snapshot] (store.go): the
//     failure/success thresholds are applied, results older than their
//     staleness bound are marked stale, and the readiness verdict
//     ([Verdict]) is computed once. A watchdog publishes a new generation
//     when a result turns stale.
//   - Readers call [Engine.Snapshot] (one atomic load) and [Engine.Liveness].
//
// Usage:
//
//	engine, err := health.NewEngine([]health.Definition{{
//		Name: "database", Checker: db, Critical: true,
//	}}, health.WithTarget("default"), health.WithLogger(logger))
//	go engine.Run(ctx)
//	snap := engine.Snapshot() // what /readyz and /metrics read
package health
