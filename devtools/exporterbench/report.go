package main

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/dbhealth/dbhealth-exporter/devtools/internal/benchkit"
)

// markdown renders the run: the machine, the commands, one table per
// measurement and the targets.
func (r *results) markdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("### Machine\n")
	r.machine.Table(p)
	p("| run | %s, %s |", r.started.UTC().Format("2006-01-02 15:04 MST"), r.finished.Sub(r.started).Round(time.Second))
	p("")
	p("### Commands\n")
	p("```sh")
	for _, c := range r.commands {
		p("%s", c)
	}
	p("%s", r.metricsOneConnCmd)
	p("```\n")

	r.throughput(p)
	r.databaseCost(p)
	r.memoryTable(p)
	r.outageTable(p)
	r.targetTable(p)
	return b.String()
}

type printer func(format string, args ...any)

func (r *results) throughput(p printer) {
	p("### (a) Throughput and latency, side by side\n")
	p("wrk `%s`, %d rounds; the servers take turns within a round (the order rotates each round). "+
		"req/s and latencies are medians over the rounds; × bare is the median of each round's ratio to the bare handler of the same round. "+
		"CPU: the server's, the rest of the machine's (not the server, not wrk) and the hypervisor's steal during the runs, in cores, medians; the machine has %d. "+
		"Server CPU per request is the server's CPU time over its requests: unlike req/s, it hardly depends on what else the machine runs.\n",
		r.load, r.rounds, r.machine.CPUs)
	p("| server | bytes/response | req/s | req/s per round | × bare | p50 | p99 | p99.9 | errors, non-2xx | CPU server / others / steal | server CPU per request |")
	p("|---|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|")
	for _, t := range r.targets {
		var rps, ratio, p50, p99, p999, bytes, server, other, steal, perReq []float64
		var rounds []string
		var errs int64
		for i, m := range t.runs {
			rps = append(rps, m.RPS())
			ratio = append(ratio, m.RPS()/r.bare.runs[i].RPS())
			p50 = append(p50, float64(m.P50))
			p99 = append(p99, float64(m.P99))
			p999 = append(p999, float64(m.P999))
			bytes = append(bytes, m.BytesPerResponse())
			server = append(server, m.cpu.server)
			other = append(other, m.cpu.other)
			steal = append(steal, m.cpu.steal)
			perReq = append(perReq, m.cpu.server/m.RPS()*float64(time.Second))
			rounds = append(rounds, fmt.Sprintf("%.0f", m.RPS()))
			errs += m.Errors + m.NonOK
		}
		p("| %s | %.0f | **%.0f** | %s | **%.2f** | %s | %s | %s | %d | %.2f / %.2f / %.2f | %s |", t.name, benchkit.Median(bytes), benchkit.Median(rps),
			strings.Join(rounds, " / "), benchkit.Median(ratio), benchkit.Dur(time.Duration(benchkit.Median(p50))),
			benchkit.Dur(time.Duration(benchkit.Median(p99))), benchkit.Dur(time.Duration(benchkit.Median(p999))), errs, benchkit.Median(server), benchkit.Median(other), benchkit.Median(steal),
			benchkit.Dur(time.Duration(benchkit.Median(perReq))))
	}
	one := r.metricsOneConn
	p("\nOne scrape at a time (wrk `-t1 -c1 -d%s`, Prometheus' headers): exporter `/metrics` %.0f scrapes/s, "+
		"p50 %s, p99 %s, max %s, %.0f bytes per response (gzip).\n",
		one.Duration.Round(time.Second), one.RPS(), benchkit.Dur(one.P50), benchkit.Dur(one.P99), benchkit.Dur(one.Max), one.BytesPerResponse())
	p("Full rate (both exporters' `/readyz` under wrk `%s` at once): %.0f req/s (p99 %s) on the 10s exporter, %.0f req/s (p99 %s) on the 1s one.\n",
		r.sustain, r.sustain10.RPS(), benchkit.Dur(r.sustain10.P99), r.sustain1.RPS(), benchkit.Dur(r.sustain1.P99))
}

func (r *results) databaseCost(p printer) {
	p("### (b) Database cost\n")
	p("Each server watches its own database of one cluster; the figures are deltas of `pg_stat_database` " +
		"(`xact_commit + xact_rollback`, and `sessions`: one per backend start, i.e. per connection opened), read from another database. " +
		"Check runs and their mean duration are the exporter's own (`dbhealth_check_duration_seconds`), read at the same moments.\n")
	p("| server | probes | window | probe requests | transactions | per minute | backend starts | per minute | check runs, mean duration | transactions per 1000 probes |")
	p("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|")
	for _, c := range r.costs {
		minutes := c.cost.window.Minutes()
		if c.loaded > 0 {
			minutes = c.loaded.Minutes()
		}
		perK := "–"
		if c.requests > 0 {
			perK = benchkit.Number(float64(c.cost.xacts) * 1000 / float64(c.requests))
		}
		runs := "–"
		switch {
		case c.checks != nil && c.checks.runs > 0:
			runs = fmt.Sprintf("%.0f, %s", c.checks.runs, benchkit.Dur(c.checks.mean))
		case c.checks != nil:
			runs = "0"
		}
		p("| %s | %s | %s | %d | %d | %s | %d | %s | %s | %s |", c.server, c.probes, c.cost.window.Round(time.Second),
			c.requests, c.cost.xacts, benchkit.Number(float64(c.cost.xacts)/minutes), c.cost.sessions, benchkit.Number(float64(c.cost.sessions)/minutes), runs, perK)
	}
	p("")
}

func (r *results) memoryTable(p printer) {
	p("### (c) Memory (/proc/<pid>/status)\n")
	p("VmRSS split into anonymous memory (heap, stacks) and file pages (the mapped binary). Idle: after the idle phase, " +
		"before any request. Under load: the largest VmRSS sampled every 100 ms during the runs; the full-rate window comes before the " +
		"side-by-side run, so it has seen no scrape. VmHWM: the peak over the process' life, read at the end.\n")
	p("| process | situation | VmRSS (anon + file) |")
	p("|---|---|--:|")
	for _, m := range r.memory {
		v := fmt.Sprintf("%s (%s + %s)", benchkit.MiB(m.mem.RSS), benchkit.MiB(m.mem.Anon), benchkit.MiB(m.mem.File))
		if m.hwm || m.mem.RSS == 0 {
			v = benchkit.MiB(m.mem.RSS)
		}
		p("| %s | %s | %s |", m.process, m.situation, v)
	}
	p("")
}

func (r *results) outageTable(p printer) {
	p("### (d) Outage detection and recovery\n")
	p("Detection: from `pg_ctl stop -m fast` to the first 503 of `/readyz`. Recovery: from the first connection the restarted "+
		"server accepts to the first 200 (both polled every %s, so ±%s). The bound is interval + timeout: a run may have just begun when "+
		"the database changes and the next begins an interval after it ends; a refused connection fails at once, so here the "+
		"expected worst case is about one interval and the expected mean half of one. Each repetition waits a random 0–1 interval "+
		"before stopping and before starting, so the changes fall at random phases of the schedule. The 10s figures pool two "+
		"exporters, each with a cluster of its own, measured at the same time.\n", pollEvery, pollEvery)
	p("| exporter | repetitions | detection min / median / p90 / max | mean | recovery min / median / p90 / max | mean | bound | server start (median) |")
	p("|---|--:|---|--:|---|--:|--:|--:|")
	dist := func(ds []time.Duration) string {
		return fmt.Sprintf("%s / %s / %s / %s", benchkit.Dur(benchkit.Quantile(ds, 0)), benchkit.Dur(medianDuration(ds)), benchkit.Dur(benchkit.Quantile(ds, 0.9)), benchkit.Dur(benchkit.Quantile(ds, 1)))
	}
	for _, o := range r.outages {
		p("| `%s` | %d | %s | %s | %s | %s | %s | %s |", o.sched, len(o.detect), dist(o.detect), benchkit.Dur(mean(o.detect)),
			dist(o.recover), benchkit.Dur(mean(o.recover)), benchkit.Dur(o.sched.bound()), benchkit.Dur(medianDuration(o.startup)))
	}
	p("")
}

func (r *results) targetTable(p printer) {
	p("### Targets\n")
	p("| target | measured | |")
	p("|---|---|---|")
	ratio := func(t *target, base *target) float64 {
		var xs []float64
		for i := range t.runs {
			xs = append(xs, t.runs[i].RPS()/base.runs[i].RPS())
		}
		return benchkit.Median(xs)
	}
	ready, lh := r.targets[1], r.targets[4]
	rb := ratio(ready, r.bare)
	p("| `/readyz` ≥ 0.9 × the bare handler | %.3f × | %s |", rb, benchkit.Verdict(rb >= 0.9))
	rl := ratio(ready, lh)
	p("| `/readyz` above alexliesenfeld/health's handler | %.3f × | %s |", rl, benchkit.Verdict(rl > 1))

	// Probes must add nothing: at full rate the database sees at most what
	// it sees idle, give or take one check run in the window. The 1s
	// exporter decides (about 60 runs a minute); the 10s one is shown.
	var lines []string
	independent := true
	for _, pair := range [][2]int{{3, 4}, {0, 2}} {
		idle, full := r.costs[pair[0]], r.costs[pair[1]]
		a, b := idle.cost.perMinute(idle.cost.xacts), full.cost.perMinute(full.cost.xacts)
		rate := float64(full.requests) / full.cost.window.Seconds()
		lines = append(lines, fmt.Sprintf("%s: %.1f transactions/min idle, %.1f at %.0f probes/s", full.server, a, b, rate))
		if pair[0] == 3 {
			perRun := float64(full.cost.xacts) / math.Max(1, float64(full.cost.sessions))
			independent = b <= 1.1*a+perRun/full.cost.window.Minutes()
		}
	}
	p("| database cost independent of probe rate | %s | %s |", strings.Join(lines, "; "), benchkit.Verdict(independent))

	mem := func(situation string) benchkit.Memory {
		for _, m := range r.memory {
			if strings.HasPrefix(m.situation, situation) && strings.HasPrefix(m.process, "exporter, --check.interval=10s") {
				return m.mem
			}
		}
		return benchkit.Memory{}
	}
	idle, full, metrics := mem("idle"), mem("`/readyz` at full rate"), mem("side by side: `/metrics`")
	p("| exporter RSS ≤ 20 MiB steady | idle %s; `/readyz` at full rate %s; after %d concurrent gzip scrapes %s | %s |",
		benchkit.MiB(idle.RSS), benchkit.MiB(full.RSS), r.load.connections, benchkit.MiB(metrics.RSS), benchkit.Verdict(max(idle.RSS, full.RSS) <= 20*1024))
	one := r.metricsOneConn
	p("| `/metrics` scrape ≤ 5 ms for one target | p50 %s, p99 %s (one connection) | %s |", benchkit.Dur(one.P50), benchkit.Dur(one.P99), benchkit.Verdict(one.P99 <= 5*time.Millisecond))
	p("")
}
