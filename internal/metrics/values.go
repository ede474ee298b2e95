package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Gauge is a constant gauge, the shape of nearly every metric built from a
// snapshot.
func Gauge(desc *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, labels...)
}

// Bool is 1 for true and 0 for false.
func Bool(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// UnixSeconds is t as Prometheus timestamps are exported: seconds since the
// epoch, with a fraction.
func UnixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
