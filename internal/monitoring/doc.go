// Package monitoring keeps the monitoring that ships with the exporter in
// step with it: it generates the Kubernetes PrometheusRule and
// ServiceMonitor from alerts/ (make manifests), and its tests run the alert
// rules' unit tests with promtool and every dashboard and rule query against
// a real Prometheus scraping a real exporter.
package monitoring
