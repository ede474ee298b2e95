// Package metrics turns the current health.Snapshot into Prometheus metrics
// at scrape time. Every value comes from one snapshot read once per scrape,
// so a scrape always shows a single generation, the same one /readyz serves.
//
// This package renders the families every check has (dbhealth_check_*,
// dbhealth_ready); a check with metrics of its own implements
// CheckCollector in its own package, and the Collector calls it with the
// check's entry of the same snapshot. dbhealth_check_failures_total has a
// series for every reason the check's Stats count, at 0 from the start for
// those a Checker declares (see health.Checker).
//
//	reg.MustRegister(metrics.NewCollector(engine.Snapshot))
package metrics
