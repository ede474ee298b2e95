// Package exporter is the one place where dbhealth-exporter is put
// together: from a Config it builds the connection pool, the checks, the
// engine that runs them, the Prometheus registry, the probe and metrics
// handlers behind the web configuration, and OpenTelemetry; Run serves it
// until its context ends, then drains. cmd/exporter parses flags into a
// Config and calls it; the benchmarks and the integration tests call the
// same constructor.
//
//	ex, err := exporter.New(exporter.Config{
//		Database: exporter.Database{DSN: dsn},
//	})
//	if err != nil { ... }      // a configuration error, already redacted
//	err = ex.Run(ctx)          // listens, serves, drains when ctx ends
//
// Nothing here touches the network before Run: New fails only on bad
// configuration.
package exporter
