package exporter_test

import (
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/dbhealth/dbhealth-exporter/internal/exporter"
	"github.com/dbhealth/dbhealth-exporter/internal/pgtest"
)

// fleet is the configuration of n targets on one database, as shard of
// total.
func fleet(dsn string, n, shard, total int) exporter.Config {
	cfg := schedule("", 2*time.Second, time.Second)
	cfg.Fleet = exporter.Fleet{Shard: shard, TotalShards: total}
	for i := range n {
		cfg.Targets = append(cfg.Targets, exporter.Target{Name: fmt.Sprintf("t%03d", i), Database: exporter.Database{DSN: dsn}})
	}
	return cfg
}

var (
	targetSeries = regexp.MustCompile(`(?m)^dbhealth_target_ready\{target="([^"]+)"\} [01]$`)
	targetReady  = regexp.MustCompile(`(?m)^dbhealth_target_ready\{target="([^"]+)"\} 1$`)
)

// Three shards over the same 200 targets: every target is checked by
// exactly one, and their /metrics together hold every target once.
func TestFleet_ThreeShards_EveryTargetCheckedOnce(t *testing.T) {
	cluster := pgtest.New(t)
	const n, shards = 200, 3
	var exporters []*inProcess
	for shard := range shards {
		exporters = append(exporters, startInProcess(t, fleet(cluster.DSN("postgres"), n, shard, shards)))
	}
	owner := map[string]int{}
	for shard, ex := range exporters {
		ex := ex
		until(t, fmt.Sprintf("shard %d's targets checked", shard), 30*time.Second, func() bool {
			_, body := ex.get(t, "/metrics")
			all := len(targetSeries.FindAllString(body, -1))
			return all > 0 && len(targetReady.FindAllString(body, -1)) == all && allChecked(ex, body)
		})
		_, body := ex.get(t, "/metrics")
		for _, m := range targetReady.FindAllStringSubmatch(body, -1) {
			if prev, ok := owner[m[1]]; ok {
				t.Errorf("target %s is on shard %d and %d", m[1], prev, shard)
			}
			owner[m[1]] = shard
		}
	}
	if len(owner) != n {
		t.Fatalf("the shards hold %d targets together, want %d", len(owner), n)
	}
	perShard := make([]int, shards)
	for _, s := range owner {
		perShard[s]++
	}
	t.Logf("targets per shard: %v", perShard)
	for name, s := range owner {
		for other, ex := range exporters {
			if _, ok := ex.TargetSnapshot(name); ok != (other == s) {
				t.Fatalf("target %s: shard %d has it %v", name, other, ok)
			}
		}
	}
}

// allChecked reports whether every target of the shard has run its check.
func allChecked(ex *inProcess, metrics string) bool {
	for _, m := range targetReady.FindAllStringSubmatch(metrics, -1) {
		snap, ok := ex.TargetSnapshot(m[1])
		if !ok || snap.Generation == 0 {
			return false
		}
	}
	return true
}
