package web

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	reloadOKDesc = prometheus.NewDesc("dbhealth_web_config_last_reload_successful",
		"1 if the last reload of the web configuration file (and the files it names) succeeded, 0 if the last good one is still in force.", nil, nil)
	reloadOKAtDesc = prometheus.NewDesc("dbhealth_web_config_last_reload_success_timestamp_seconds",
		"When the web configuration in force was read, Unix time.", nil, nil)
	connsDesc = prometheus.NewDesc("dbhealth_web_connections",
		"Client connections open now.", nil, nil)
	connsLimitDesc = prometheus.NewDesc("dbhealth_web_connections_limit",
		"The bound on open client connections.", nil, nil)
	connsEvictedDesc = prometheus.NewDesc("dbhealth_web_connections_evicted_total",
		"Connections closed to make room for a new one at the bound.", nil, nil)
	connsRefusedDesc = prometheus.NewDesc("dbhealth_web_connections_refused_total",
		"New connections closed at the bound because every open one was running a young request.", nil, nil)
	rejectedDesc = prometheus.NewDesc("dbhealth_web_requests_rejected_total",
		"Requests answered without reaching an endpoint, by reason: body (413), unauthorized (401), throttled (429), busy (503).", []string{"reason"}, nil)
)

// Collector returns the server's metrics: the configuration reloads, the
// connections and the rejected requests.
func (s *Server) Collector() prometheus.Collector { return collector{s} }

type collector struct{ s *Server }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{reloadOKDesc, reloadOKAtDesc, connsDesc, connsLimitDesc, connsEvictedDesc, connsRefusedDesc, rejectedDesc} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	s := c.s
	ok := 0.0
	if s.reloads.ok.Load() {
		ok = 1
	}
	ch <- prometheus.MustNewConstMetric(reloadOKDesc, prometheus.GaugeValue, ok)
	ch <- prometheus.MustNewConstMetric(reloadOKAtDesc, prometheus.GaugeValue,
		float64(s.reloads.okAt.Load())/float64(time.Second))
	ch <- prometheus.MustNewConstMetric(connsDesc, prometheus.GaugeValue, float64(s.conns.Open()))
	ch <- prometheus.MustNewConstMetric(connsLimitDesc, prometheus.GaugeValue, float64(s.conns.max))
	ch <- prometheus.MustNewConstMetric(connsEvictedDesc, prometheus.CounterValue, float64(s.conns.evicted.Load()))
	ch <- prometheus.MustNewConstMetric(connsRefusedDesc, prometheus.CounterValue, float64(s.conns.refused.Load()))
	for r, name := range reasonNames {
		ch <- prometheus.MustNewConstMetric(rejectedDesc, prometheus.CounterValue, float64(s.rejected[r].Load()), name)
	}
}
