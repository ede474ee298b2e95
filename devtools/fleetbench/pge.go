package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/dbhealth/dbhealth-exporter/devtools/internal/benchkit"
)

// pgeDefaultCollectors are the collectors postgres_exporter v0.20.1
// enables by default (collector/*.go, registerCollector(...,
// defaultEnabled, ...)).
var pgeDefaultCollectors = []string{
	"database", "locks", "replication", "replication_slots", "roles", "settings", "stat_activity",
	"stat_archiver", "stat_bgwriter", "stat_database", "stat_progress_vacuum", "stat_replication",
	"stat_user_tables", "statio_user_tables", "wal",
}

// pgeUpOnlyFlags make postgres_exporter's /probe do what the database
// check does and nothing more: connect, read the server's version, answer
// pg_up. Every default collector is off, and so are the legacy default
// metrics; its per-probe log line is silenced (warn), as the exporter's
// healthy runs log nothing.
func pgeUpOnlyFlags() []string {
	args := []string{"--disable-default-metrics", "--log.level=warn"}
	for _, c := range pgeDefaultCollectors {
		args = append(args, "--no-collector."+c)
	}
	return args
}

// pgeRun is postgres_exporter's multi-target mode at one size in one
// round: every target probed once an interval, as Prometheus would.
type pgeRun struct {
	n        int
	steady   usage // procs[0]: postgres_exporter; trees[0]: the fleet's cluster
	sessions float64
	xacts    float64
	scrapes  []scrape        // those that started in the window
	rss      benchkit.Memory // at the end of the window, under its scrapes
}

// probeURL is postgres_exporter's /probe of one database.
func probeURL(base, dsn string) string { return base + "/probe?target=" + url.QueryEscape(dsn) }

func upLine(body []byte) bool {
	return bytes.HasPrefix(body, []byte("pg_up 1\n")) || bytes.Contains(body, []byte("\npg_up 1\n"))
}

func (bn *bench) measurePGE(ctx context.Context, n int) (*pgeRun, error) {
	o := bn.o
	p, err := startProc(fmt.Sprintf("postgres_exporter-%d", n), bn.dir, o.pge, pgeUpOnlyFlags(), nil)
	if err != nil {
		return nil, err
	}
	defer p.Stop()
	if err := waitOK(ctx, p, "/", 30*time.Second); err != nil {
		return nil, err
	}
	dbs := bn.c.dbs[:n]
	urls := make([]string, n)
	for i, db := range dbs {
		urls[i] = probeURL(p.URL, bn.c.dsn(db, false))
	}
	sc := startScraper(ctx, urls, o.interval, o.interval, upLine)
	defer sc.stop()
	// One whole interval: every target scraped once.
	if err := sleep(ctx, o.interval+2*time.Second); err != nil {
		return nil, err
	}
	s0, err := bn.c.readStats(ctx, dbs)
	if err != nil {
		return nil, err
	}
	from := time.Now()
	m := startMeter([]int{p.PID()}, []int{bn.c.postmaster()})
	if err := sleep(ctx, o.window); err != nil {
		return nil, err
	}
	r := &pgeRun{n: n, steady: m.stop()}
	to := time.Now()
	r.rss = readMemory(p.PID())
	s1, err := bn.c.readStats(ctx, dbs)
	if err != nil {
		return nil, err
	}
	r.sessions, r.xacts = s1.sessions-s0.sessions, s1.xacts-s0.xacts
	sc.stop()
	r.scrapes = sc.between(from, to)
	ok := 0
	for _, s := range r.scrapes {
		if s.ok {
			ok++
		}
	}
	logf("postgres_exporter-%d: steady %.3f cores, %d probes (%d up), %.1f sessions/s, RSS %.1f MiB",
		n, r.steady.procs[0], len(r.scrapes), ok, r.sessions/r.steady.elapsed.Seconds(), r.rss.MiB())
	return r, nil
}

// pgeDefault is one /probe of postgres_exporter with its default
// collectors against the fleet's cluster: what a scrape of one target
// costs as users run it (its per-database collectors report every
// database of the server).
type pgeDefault struct {
	probes   int
	latency  []time.Duration
	wire     int
	body     int
	series   int
	cpu      time.Duration // postgres_exporter's, per probe
	server   time.Duration // the cluster's, per probe
	sessions float64       // per probe
}

func (bn *bench) measurePGEDefault(ctx context.Context, probes int) (*pgeDefault, error) {
	o := bn.o
	p, err := startProc("postgres_exporter-default", bn.dir, o.pge, []string{"--log.level=warn"}, nil)
	if err != nil {
		return nil, err
	}
	defer p.Stop()
	if err := waitOK(ctx, p, "/", 30*time.Second); err != nil {
		return nil, err
	}
	client := newClient(1, time.Minute)
	defer client.CloseIdleConnections()
	header := http.Header{"Accept": {prometheusAccept}, "Accept-Encoding": {"gzip"}}
	target := probeURL(p.URL, bn.c.dsn(dbName(0), false))
	dbs := bn.c.dbs[:1]
	s0, err := bn.c.readStats(ctx, dbs)
	if err != nil {
		return nil, err
	}
	m := startMeter([]int{p.PID()}, []int{bn.c.postmaster()})
	r := &pgeDefault{probes: probes}
	for range probes {
		t := time.Now()
		code, wire, body, err := fetch(ctx, client, target, header)
		if err != nil {
			return nil, err
		}
		if code != http.StatusOK || !upLine(body) {
			return nil, fmt.Errorf("postgres_exporter default /probe: %d, pg_up 1 missing", code)
		}
		r.latency = append(r.latency, time.Since(t))
		r.wire, r.body, r.series = wire, len(body), len(samples(body))
	}
	u := m.stop()
	r.cpu = u.procCPU[0] / time.Duration(probes)
	r.server = u.treeCPU[0] / time.Duration(probes)
	// Backends report their session when they end: give the last probe's
	// a moment.
	if err := sleep(ctx, time.Second); err != nil {
		return nil, err
	}
	s1, err := bn.c.readStats(ctx, dbs)
	if err != nil {
		return nil, err
	}
	r.sessions = (s1.sessions - s0.sessions) / float64(probes)
	logf("postgres_exporter default: %d probes, %s each, %d bytes (%d on the wire), %d series", probes, r.latency[0], r.body, r.wire, r.series)
	return r, nil
}
