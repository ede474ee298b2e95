// Package metrics turns the current health.Snapshot into Prometheus metrics
// at scrape time. Every value comes from one snapshot read once per scrape,
// so a scrape always shows a single generation, the same one /readyz serves.
//
// This package renders the families every check has (dbhealth_check_*,
// dbhealth_ready); a check with metrics of its own implements
// CheckCollector in its own package, and the Collector calls it with the
// check's entry of the same snapshot. A check that implements ReasonLister
// has a dbhealth_check_failures_total series at 0 for each of its reasons
// from the start.
//
//	reg.MustRegister(metrics.NewCollector(engine.Snapshot))
package metrics
