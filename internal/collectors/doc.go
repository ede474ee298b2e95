// Package collectors holds the checks dbhealth-exporter runs: each file is
// one health.Checker and the Details it reports. Details that implement
// CollectMetrics(target string, ch chan<- prometheus.Metric) export metrics
// of their own, built from the snapshot at scrape time.
//
//	db := collectors.NewDatabase(pool, collectors.DatabaseOptions{ExpectPrimary: true})
//	def := health.Definition{Name: "database", Checker: db, Critical: true}
package collectors
