package metrics

import (
	"cmp"
	"slices"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/dbhealth/dbhealth-exporter/internal/health"
)

// Target is one target of a fleet as a scrape sees it: one snapshot, read
// once, and the labels its configuration gives it.
type Target struct {
	Snapshot *health.Snapshot
	Labels   map[string]string
}

// FleetCollector is an unchecked prometheus.Collector over many targets.
// Every target's series carry its target label and its own labels; the
// target's readiness is dbhealth_target_ready{target} and its generation
// dbhealth_target_snapshot_generation{target}, while dbhealth_ready is the
// exporter's own (ready to serve).
type FleetCollector struct {
	view  func() []Target
	ready func() bool
}

// NewFleetCollector returns a collector over the targets view returns (it
// is called once per scrape and must read each target's snapshot once);
// ready says whether the exporter itself is ready.
func NewFleetCollector(view func() []Target, ready func() bool) *FleetCollector {
	return &FleetCollector{view: view, ready: ready}
}

var (
	descTargets = prometheus.NewDesc("dbhealth_targets",
		"Targets this exporter (this shard) watches.", nil, nil)
	descTargetReady = prometheus.NewDesc("dbhealth_target_ready",
		"1 if the target's readiness (/targets/<target>/readyz) is ready right now, 0 otherwise.", []string{"target"}, nil)
	descTargetGeneration = prometheus.NewDesc("dbhealth_target_snapshot_generation",
		"Generation of the target's snapshot this scrape was built from; /targets/<target>/readyz reports the same number.", []string{"target"}, nil)
)

// Describe sends nothing: the collector is unchecked.
func (c *FleetCollector) Describe(chan<- *prometheus.Desc) {}

// Collect builds every target's metrics from one view. The metrics of
// targets with labels pass through one relabelling goroutine, started at
// the first such target: a labelSwitch before each target's metrics tells
// it which labels follow.
func (c *FleetCollector) Collect(ch chan<- prometheus.Metric) {
	targets := c.view()
	ch <- Gauge(descReady, Bool(c.ready()))
	ch <- Gauge(descTargets, float64(len(targets)))
	var relay chan prometheus.Metric
	done := make(chan struct{})
	defer func() {
		if relay != nil {
			close(relay)
			<-done
		}
	}()
	for _, t := range targets {
		if len(t.Labels) == 0 {
			collectTarget(ch, t.Snapshot)
			continue
		}
		if relay == nil {
			relay = make(chan prometheus.Metric, 256)
			go relabel(relay, ch, done)
		}
		relay <- labelSwitch{labelPairs(t.Labels)}
		collectTarget(relay, t.Snapshot)
	}
}

// relabel passes the metrics from in on to out, each with the label pairs
// of the last labelSwitch before it, and closes done when in is closed.
func relabel(in <-chan prometheus.Metric, out chan<- prometheus.Metric, done chan<- struct{}) {
	defer close(done)
	var pairs []*dto.LabelPair
	for m := range in {
		if s, ok := m.(labelSwitch); ok {
			pairs = s.pairs
			continue
		}
		out <- labeled{m, pairs}
	}
}

// labelSwitch tells relabel the labels of the metrics that follow. It goes
// through the relay channel only, never to the registry.
type labelSwitch struct{ pairs []*dto.LabelPair }

func (labelSwitch) Desc() *prometheus.Desc  { return nil }
func (labelSwitch) Write(*dto.Metric) error { return nil }

func collectTarget(ch chan<- prometheus.Metric, snap *health.Snapshot) {
	ch <- Gauge(descTargetReady, Bool(snap.Readiness == health.ReadinessReady), snap.Target)
	ch <- Gauge(descTargetGeneration, float64(snap.Generation), snap.Target)
	for _, check := range snap.Checks {
		collectCheck(ch, snap.Target, check)
	}
}

// labeled is a metric with more label pairs: a target's configured labels.
type labeled struct {
	prometheus.Metric
	pairs []*dto.LabelPair
}

func (m labeled) Write(out *dto.Metric) error {
	if err := m.Metric.Write(out); err != nil {
		return err
	}
	out.Label = append(out.Label, m.pairs...)
	slices.SortFunc(out.Label, func(a, b *dto.LabelPair) int { return cmp.Compare(a.GetName(), b.GetName()) })
	return nil
}

func labelPairs(labels map[string]string) []*dto.LabelPair {
	pairs := make([]*dto.LabelPair, 0, len(labels))
	for k, v := range labels {
		pairs = append(pairs, &dto.LabelPair{Name: &k, Value: &v})
	}
	return pairs
}
