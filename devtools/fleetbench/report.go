package main

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/dbhealth/dbhealth-exporter/devtools/internal/benchkit"
)

type fleetKey struct {
	n    int
	auth bool
}

// results are every round's measurements.
type results struct {
	o                 options
	machine           benchkit.Machine
	started, finished time.Time
	created           int
	createTime        time.Duration
	serverIdle        float64 // the fleet's cluster, idle, in cores
	sidecarCPU        float64 // the single-target exporter, idle, in cores
	sidecarRSS        benchkit.Memory

	fleet      map[fleetKey][]*fleetRun
	pge        map[int][]*pgeRun
	conn       map[string][]*connRun
	blackhole  map[int][]*blackholeRun
	pgeDefault *pgeDefault
}

type printer func(format string, args ...any)

func (r *results) markdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("#### Machine\n")
	r.machine.Table(p)
	p("| run | %s, %s, %d rounds |", r.started.UTC().Format("2006-01-02 15:04 MST"), r.finished.Sub(r.started).Round(time.Second), r.o.rounds)
	p("| databases | %d in one cluster, created in %s (`CREATE DATABASE` one after the other in one session) |", r.created, r.createTime.Round(100*time.Millisecond))
	p("")
	r.costTable(p)
	r.memoryTable(p)
	r.scrapeTable(p)
	r.probeTable(p)
	r.connTable(p)
	r.blackholeTable(p)
	r.targetTable(p)
	return b.String()
}

func (r *results) sizes() []fleetKey {
	keys := make([]fleetKey, 0, len(r.fleet))
	for k := range r.fleet {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b fleetKey) int {
		if a.n != b.n {
			return a.n - b.n
		}
		if a.auth == b.auth {
			return 0
		}
		if a.auth {
			return 1
		}
		return -1
	})
	return keys
}

func (k fleetKey) label() string {
	if k.auth {
		return "dbhealth-exporter (scram-sha-256 + TLS)"
	}
	return "dbhealth-exporter"
}

// othersCell is the CPU other sessions used during the windows, in cores.
func othersCell(xs []float64) string { return fmt.Sprintf("%.2f", benchkit.Median(xs)) }

func (r *results) costTable(p printer) {
	o := r.o
	p("#### Cost at scale: CPU, connections\n")
	p("Steady window of %s with no request (dbhealth-exporter: the checks alone, after every target has run once and one more interval; "+
		"postgres_exporter: its /probe of every target once every %s, spread over the interval, with Prometheus's headers, after one whole interval). "+
		"CPU from /proc/<pid>/stat (utime + stime), in cores (1.0 = one core busy); PostgreSQL's is the cluster's, postmaster and every backend, "+
		"less its idle %.3f cores. Connections and transactions from pg_stat_database (`sessions`, `xact_commit + xact_rollback`) over the targets' databases. "+
		"Medians of %d rounds; \"others\": what the rest of the machine used meanwhile.\n",
		o.window, o.interval, r.serverIdle, o.rounds)
	p("| targets | server | CPU, cores | check runs or probes /s | CPU per run or probe | connections /s | transactions /s | PostgreSQL CPU, cores | PostgreSQL CPU per connection | others, cores |")
	p("|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|")
	for _, k := range r.sizes() {
		runs := r.fleet[k]
		secs := func(f *fleetRun) float64 { return f.steady.elapsed.Seconds() }
		cpu := med(runs, func(f *fleetRun) float64 { return f.steady.procs[0] })
		rate := med(runs, func(f *fleetRun) float64 { return f.runs / secs(f) })
		per := med(runs, func(f *fleetRun) float64 { return f.steady.procCPU[0].Seconds() / f.runs })
		xacts := med(runs, func(f *fleetRun) float64 { return f.xacts / secs(f) })
		srv := max(0, med(runs, func(f *fleetRun) float64 { return f.steady.trees[0] - r.serverIdle }))
		perConn := med(runs, func(f *fleetRun) float64 { return (f.steady.trees[0] - r.serverIdle) / (f.runs / secs(f)) })
		if med(runs, func(f *fleetRun) float64 { return f.runs }) < minConns {
			perConn = math.NaN()
		}
		others := med(runs, func(f *fleetRun) float64 { return f.steady.others })
		p("| %d | %s | **%.4f** (%.2f %%) | %s | %s | %s | %s | %.3f | %s | %.2f |", k.n, k.label(), cpu, 100*cpu, benchkit.Number(rate),
			dur(seconds(per)), benchkit.Number(rate), benchkit.Number(xacts), srv, dur(seconds(perConn)), others)
		if pr, ok := r.pge[k.n]; ok && !k.auth {
			secs := func(x *pgeRun) float64 { return x.steady.elapsed.Seconds() }
			cpu := med(pr, func(x *pgeRun) float64 { return x.steady.procs[0] })
			rate := med(pr, func(x *pgeRun) float64 { return float64(len(x.scrapes)) / secs(x) })
			per := med(pr, func(x *pgeRun) float64 { return x.steady.procCPU[0].Seconds() / float64(len(x.scrapes)) })
			conns := med(pr, func(x *pgeRun) float64 { return x.sessions / secs(x) })
			xacts := med(pr, func(x *pgeRun) float64 { return x.xacts / secs(x) })
			srv := max(0, med(pr, func(x *pgeRun) float64 { return x.steady.trees[0] - r.serverIdle }))
			perConn := med(pr, func(x *pgeRun) float64 { return (x.steady.trees[0] - r.serverIdle) / (x.sessions / secs(x)) })
			if med(pr, func(x *pgeRun) float64 { return x.sessions }) < minConns {
				perConn = math.NaN()
			}
			others := med(pr, func(x *pgeRun) float64 { return x.steady.others })
			p("| %d | postgres_exporter /probe, pg_up only | **%.4f** (%.2f %%) | %s | %s | %s | %s | %.3f | %s | %.2f |", k.n, cpu, 100*cpu, benchkit.Number(rate),
				dur(seconds(per)), benchkit.Number(conns), benchkit.Number(xacts), srv, dur(seconds(perConn)), others)
		}
	}
	var x, y []float64
	for _, k := range r.sizes() {
		if !k.auth {
			x = append(x, float64(k.n))
			y = append(y, med(r.fleet[k], func(f *fleetRun) float64 { return f.steady.procs[0] }))
		}
	}
	if len(x) >= 2 {
		s := slope(x, y)
		p("\nSlope (least squares over the sizes): **%.3f %% of a core per 100 targets**, %s of CPU per check run at the margin.",
			100*s*100, dur(seconds(s*o.interval.Seconds())))
	}
	for _, k := range r.sizes() {
		p("Backend starts per check run over the life of the exporter at %d targets%s (pg_stat_database against dbhealth_check_runs_total): %.2f.",
			k.n, map[bool]string{true: " (scram-sha-256 + TLS)"}[k.auth], med(r.fleet[k], func(f *fleetRun) float64 { return f.perRun }))
	}
	p("Idle single-target exporter (the sidecar, one database, on a cluster of its own): %.4f cores.\n", r.sidecarCPU)
}

// minConns is how many connections a window needs before the server's CPU
// per connection means anything: below it, the 10 ms ticks of
// /proc/<pid>/stat and the idle cluster's own work dominate ("–").
const minConns = 30

// seconds converts to a Duration; not a number (nothing measured) becomes
// one that dur prints "–".
func seconds(s float64) time.Duration {
	if math.IsNaN(s) || math.IsInf(s, 0) {
		return math.MinInt64
	}
	return time.Duration(s * float64(time.Second))
}

func (r *results) memoryTable(p printer) {
	p("#### Memory\n")
	p("/proc/<pid>/status at the end of the steady window (dbhealth-exporter: idle, before any scrape; postgres_exporter: under its scrapes, as it has no idle state), medians; VmHWM: the peak over the exporter's life, after the scrapes and probes.\n")
	p("| targets | server | VmRSS | RssAnon | RssFile | VmHWM |")
	p("|--:|---|--:|--:|--:|--:|")
	var x, y []float64
	for _, k := range r.sizes() {
		runs := r.fleet[k]
		rss := med(runs, func(f *fleetRun) float64 { return float64(f.idle.RSS) })
		p("| %d | %s | **%s** | %s | %s | %s |", k.n, k.label(), benchkit.MiB(rss),
			benchkit.MiB(med(runs, func(f *fleetRun) float64 { return float64(f.idle.Anon) })),
			benchkit.MiB(med(runs, func(f *fleetRun) float64 { return float64(f.idle.File) })),
			benchkit.MiB(med(runs, func(f *fleetRun) float64 { return float64(f.hwm) })))
		if !k.auth {
			x, y = append(x, float64(k.n)), append(y, rss)
		}
		if pr, ok := r.pge[k.n]; ok && !k.auth {
			p("| %d | postgres_exporter /probe, pg_up only (under its scrapes) | %s | %s | %s | – |", k.n,
				benchkit.MiB(med(pr, func(x *pgeRun) float64 { return float64(x.rss.RSS) })),
				benchkit.MiB(med(pr, func(x *pgeRun) float64 { return float64(x.rss.Anon) })),
				benchkit.MiB(med(pr, func(x *pgeRun) float64 { return float64(x.rss.File) })))
		}
	}
	p("| 1 | single-target exporter (sidecar), idle | %s | %s | %s | – |", benchkit.MiB(float64(r.sidecarRSS.RSS)), benchkit.MiB(float64(r.sidecarRSS.Anon)), benchkit.MiB(float64(r.sidecarRSS.File)))
	if len(x) >= 2 {
		p("\nSlope of the idle VmRSS (least squares over the sizes): **%.1f KiB per target**.", slope(x, y))
	}
	p("")
}

// perScrape is the server's CPU per request of a block, less what the
// checks used meanwhile (the steady window's rate).
func perScrape(b block, background float64) time.Duration {
	if len(b.latencies) == 0 {
		return 0
	}
	cpu := b.cpu.Seconds() - background*b.elapsed.Seconds()
	return seconds(max(0, cpu) / float64(len(b.latencies)))
}

func (r *results) scrapeTable(p printer) {
	o := r.o
	p("#### `/metrics` and `/targets`\n")
	p("One connection, requests back to back (as one Prometheus scrapes one target), Prometheus's `Accept` header (OpenMetrics), without and with `Accept-Encoding: gzip`, "+
		"two blocks of %s each in turn; latency to the last byte, client side; CPU per scrape: the exporter's CPU during the blocks less the checks' steady rate, over the scrapes. Medians of %d rounds.\n", o.block, o.rounds)
	p("| targets | series | bytes | bytes gzip | p50 / p99 | p50 / p99 gzip | CPU per scrape | CPU per scrape gzip | gzip's CPU | `/targets` bytes | `/targets` p50 / p99 | `/targets` CPU |")
	p("|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
	for _, k := range r.sizes() {
		runs := r.fleet[k]
		if k.auth {
			continue
		}
		bg := func(f *fleetRun) float64 { return f.steady.procs[0] }
		plainCPU := med(runs, func(f *fleetRun) float64 { return perScrape(f.plain, bg(f)).Seconds() })
		gzipCPU := med(runs, func(f *fleetRun) float64 { return perScrape(f.gzip, bg(f)).Seconds() })
		p("| %d | %.0f | %s | %s | %s / %s | %s / %s | %s | %s | %s | %s | %s / %s | %s |", k.n,
			med(runs, func(f *fleetRun) float64 { return float64(f.series) }),
			size(med(runs, func(f *fleetRun) float64 { return float64(f.plain.wire) })),
			size(med(runs, func(f *fleetRun) float64 { return float64(f.gzip.wire) })),
			dur(medQ(runs, func(f *fleetRun) []time.Duration { return f.plain.latencies }, 0.5)),
			dur(medQ(runs, func(f *fleetRun) []time.Duration { return f.plain.latencies }, 0.99)),
			dur(medQ(runs, func(f *fleetRun) []time.Duration { return f.gzip.latencies }, 0.5)),
			dur(medQ(runs, func(f *fleetRun) []time.Duration { return f.gzip.latencies }, 0.99)),
			dur(seconds(plainCPU)), dur(seconds(gzipCPU)), dur(seconds(gzipCPU-plainCPU)),
			size(med(runs, func(f *fleetRun) float64 { return float64(f.list.wire) })),
			dur(medQ(runs, func(f *fleetRun) []time.Duration { return f.list.latencies }, 0.5)),
			dur(medQ(runs, func(f *fleetRun) []time.Duration { return f.list.latencies }, 0.99)),
			dur(seconds(med(runs, func(f *fleetRun) float64 { return perScrape(f.list, bg(f)).Seconds() }))))
	}
	p("\nThe same exposition (the first uncompressed scrape) gzipped in the harness, one goroutine, best of three: client_golang's level (6, `gzip.DefaultCompression`) and `gzip.BestSpeed` (1).\n")
	p("| targets | level 6: bytes, time | level 1: bytes, time |")
	p("|--:|--:|--:|")
	for _, k := range r.sizes() {
		runs := r.fleet[k]
		if k.auth || len(runs[0].levels) < 2 {
			continue
		}
		lv := func(i int, f func(gzipLevel) float64) float64 {
			return med(runs, func(x *fleetRun) float64 { return f(x.levels[i]) })
		}
		sz := func(l gzipLevel) float64 { return float64(l.size) }
		cpu := func(l gzipLevel) float64 { return l.cpu.Seconds() }
		p("| %d | %s, %s | %s, %s |", k.n, size(lv(0, sz)), dur(seconds(lv(0, cpu))), size(lv(1, sz)), dur(seconds(lv(1, cpu))))
	}
	if len(r.pge) > 0 {
		p("\npostgres_exporter has no scrape of all targets: Prometheus scrapes `/probe?target=...` once per target and interval. Per probe, in the steady window (gzip, as Prometheus asks):\n")
		p("| targets | probes in the window | up | bytes on the wire | p50 / p99 / max |")
		p("|--:|--:|--:|--:|--:|")
		for _, n := range slices.Sorted(maps.Keys(r.pge)) {
			pr := r.pge[n]
			p("| %d | %.0f | %.0f | %s | %s / %s / %s |", n,
				med(pr, func(x *pgeRun) float64 { return float64(len(x.scrapes)) }),
				med(pr, func(x *pgeRun) float64 { return float64(countOK(x.scrapes)) }),
				size(med(pr, func(x *pgeRun) float64 { return float64(lastWire(x.scrapes)) })),
				dur(medQ(pr, func(x *pgeRun) []time.Duration { return durations(x.scrapes) }, 0.5)),
				dur(medQ(pr, func(x *pgeRun) []time.Duration { return durations(x.scrapes) }, 0.99)),
				dur(medQ(pr, func(x *pgeRun) []time.Duration { return durations(x.scrapes) }, 1)))
		}
	}
	if d := r.pgeDefault; d != nil {
		p("\nFor scale: one `/probe` of postgres_exporter with its **default** collectors against this cluster (%d databases) returns %s (%s gzip, %d series) in %s; "+
			"it costs postgres_exporter %s and PostgreSQL %s of CPU, and opens %.0f connections. Its per-database collectors report every database of the server, "+
			"so on one cluster holding the whole fleet each probe is as large as the fleet: not a comparison this machine can run at 100 probes a second. The pg_up-only configuration above is the like-for-like one.\n",
			r.created+1, size(float64(d.body)), size(float64(d.wire)), d.series, dur(benchkit.Quantile(d.latency, 0.5)), dur(d.cpu), dur(d.server), d.sessions)
	}
	p("")
}

func countOK(s []scrape) int {
	n := 0
	for _, x := range s {
		if x.ok {
			n++
		}
	}
	return n
}

func lastWire(s []scrape) int {
	if len(s) == 0 {
		return 0
	}
	return s[len(s)-1].wire
}

func durations(s []scrape) []time.Duration {
	out := make([]time.Duration, len(s))
	for i, x := range s {
		out[i] = x.end.Sub(x.start)
	}
	return out
}

// medQ is the median over the rounds of each round's q-quantile.
func medQ[T any](runs []T, f func(T) []time.Duration, q float64) time.Duration {
	return seconds(med(runs, func(x T) float64 { return benchkit.Quantile(f(x), q).Seconds() }))
}

func (r *results) probeTable(p printer) {
	o := r.o
	p("#### Probe latency\n")
	p("%d requests a second for %s from %d clients over keep-alive connections, the three paths in turn (so that each sees the same moments of the machine): "+
		"the fleet exporter's `/targets/<name>/readyz` (a random target each time), its own `/readyz`, and the single-target exporter's `/readyz` "+
		"(its own cluster, running alongside the whole time). Client-side latency; medians over %d rounds of each round's percentiles.\n",
		o.probeRate, o.probeDuration, o.probeWorkers, o.rounds)
	p("| targets | `/targets/<name>/readyz` p50 / p99 | fleet `/readyz` p50 / p99 | single-target `/readyz` p50 / p99 | p99, per-target ÷ single | failures |")
	p("|--:|--:|--:|--:|--:|--:|")
	const (
		tgt    = "fleet /targets/<name>/readyz"
		own    = "fleet /readyz"
		single = "single-target /readyz"
	)
	for _, k := range r.sizes() {
		if k.auth {
			continue
		}
		runs := r.fleet[k]
		q := func(label string, qq float64) time.Duration {
			return medQ(runs, func(f *fleetRun) []time.Duration { return f.probeLat[label] }, qq)
		}
		fails := 0
		for _, f := range runs {
			for _, n := range f.probeFails {
				fails += n
			}
		}
		ratio := med(runs, func(f *fleetRun) float64 {
			return benchkit.Quantile(f.probeLat[tgt], 0.99).Seconds() / benchkit.Quantile(f.probeLat[single], 0.99).Seconds()
		})
		p("| %d | %s / %s | %s / %s | %s / %s | %.2f | %d |", k.n, dur(q(tgt, 0.5)), dur(q(tgt, 0.99)), dur(q(own, 0.5)), dur(q(own, 0.99)),
			dur(q(single, 0.5)), dur(q(single, 0.99)), ratio, fails)
	}
	p("")
}

func (r *results) connTable(p printer) {
	if len(r.conn) == 0 {
		return
	}
	o := r.o
	p("#### Connection cost: a fresh connection per run, or one held per target\n")
	p("The database check's work in a process of its own (this program's `connload`), %d operations a second over %d databases in turn for %s "+
		"(the rate of %d targets at a %s interval): **fresh** is what the exporter does (a pool per target, `collectors.Database.Run`: connect, `SELECT 1`, "+
		"the recovery query, close); **fresh-1q** the same with the recovery query alone (one round trip); **direct** connects with `pgx.ConnectConfig`, no pool; "+
		"**warm** runs the two queries on a connection opened once per target and held. CPU per operation: the process's, and the cluster's "+
		"(every backend; idle subtracted). Held: the idle backends' private memory (Private_Clean + Private_Dirty of smaps_rollup) and the client's VmRSS with every connection open. Medians of %d rounds.\n",
		o.connRate, o.connTargets, o.connDuration, o.connRate*int(o.interval/time.Second), o.interval, o.rounds)
	p("| authentication | mode | client CPU per op | PostgreSQL CPU per op | latency p50 / p99 | connections per op | at %d targets / %s: client, PostgreSQL (cores) | held: server memory | client VmRSS |", o.connRate*int(o.interval/time.Second), o.interval)
	p("|---|---|--:|--:|--:|--:|--:|--:|--:|")
	for _, v := range connVariants {
		for _, mode := range connModes {
			runs := r.conn[v.name+"/"+mode]
			if len(runs) == 0 {
				continue
			}
			client := med(runs, func(c *connRun) float64 { return c.client.Seconds() })
			server := max(0, med(runs, func(c *connRun) float64 {
				return c.server.Seconds() - r.serverIdle/float64(o.connRate)
			}))
			held := "–"
			if mode == "warm" {
				kib := med(runs, func(c *connRun) float64 { return float64(c.heldPrivate) })
				n := med(runs, func(c *connRun) float64 { return float64(c.held) })
				held = fmt.Sprintf("%s for %.0f (%.0f KiB each)", benchkit.MiB(kib), n, kib/math.Max(1, n))
			}
			rate := float64(o.connRate)
			p("| %s | %s | %s | %s | %s / %s | %.2f | %.3f, %.3f | %s | %s |", v.name, mode, dur(seconds(client)), dur(seconds(server)),
				dur(seconds(med(runs, func(c *connRun) float64 { return c.p50.Seconds() }))),
				dur(seconds(med(runs, func(c *connRun) float64 { return c.p99.Seconds() }))),
				med(runs, func(c *connRun) float64 { return c.sessions }),
				client*rate, server*rate, held,
				benchkit.MiB(med(runs, func(c *connRun) float64 { return float64(c.childRSS.RSS) })))
		}
	}
	p("")
}

func (r *results) blackholeTable(p printer) {
	if len(r.blackhole) == 0 {
		return
	}
	o := r.o
	p("#### A blackholed part of the fleet\n")
	p("%d targets, the first B of them pointing at a server that accepts TCP and never answers (each of their runs holds one of the %d slots of "+
		"`--fleet.max-concurrent-checks` until its %s timeout). Healthy targets' runs from pg_stat_database over a %s window; the age of each healthy target's "+
		"last run (`dbhealth_check_last_run_timestamp_seconds`) sampled from `/metrics` every %s; stale: healthy targets seen stale in any sample. Medians of %d rounds.\n",
		o.largest(), 32, o.timeout, o.blackholeWindow, o.interval/2, o.rounds)
	p("| blackholed | healthy runs /s | at most, one per interval | age of the last run p50 / p99 / max | healthy targets stale | exporter CPU, cores (with the scrapes) |")
	p("|--:|--:|--:|--:|--:|--:|")
	for _, b := range slices.Sorted(maps.Keys(r.blackhole)) {
		runs := r.blackhole[b]
		p("| %d | %.1f | %.1f | %.1f s / %.1f s / %.1f s | %.0f | %.3f |", b,
			med(runs, func(x *blackholeRun) float64 { return x.healthyRuns / x.window.Seconds() }),
			float64(o.largest()-b)/o.interval.Seconds(),
			med(runs, func(x *blackholeRun) float64 { return benchkit.Quantile(x.ages, 0.5) }),
			med(runs, func(x *blackholeRun) float64 { return benchkit.Quantile(x.ages, 0.99) }),
			med(runs, func(x *blackholeRun) float64 { return benchkit.Quantile(x.ages, 1) }),
			med(runs, func(x *blackholeRun) float64 { return float64(x.stale) }),
			med(runs, func(x *blackholeRun) float64 { return x.cpu }))
	}
	p("")
}

func (r *results) targetTable(p printer) {
	big := fleetKey{r.o.largest(), false}
	runs, ok := r.fleet[big]
	if !ok {
		return
	}
	p("#### Targets (%d targets, %s interval)\n", big.n, r.o.interval)
	p("| target | measured | |")
	p("|---|---|---|")
	cpu := med(runs, func(f *fleetRun) float64 { return f.steady.procs[0] })
	p("| CPU under 10 %% of one core | %.2f %% | %s |", 100*cpu, benchkit.Verdict(cpu < 0.10))
	if tls, ok := r.fleet[fleetKey{big.n, true}]; ok {
		c := med(tls, func(f *fleetRun) float64 { return f.steady.procs[0] })
		p("| the same, scram-sha-256 over TLS | %.2f %% | %s |", 100*c, benchkit.Verdict(c < 0.10))
	}
	rss := med(runs, func(f *fleetRun) float64 { return float64(f.idle.RSS) })
	hwm := med(runs, func(f *fleetRun) float64 { return float64(f.hwm) })
	p("| RSS under 64 MiB | idle %s, peak %s (after the scrapes) | %s |", benchkit.MiB(rss), benchkit.MiB(hwm), benchkit.Verdict(rss < 64*1024 && hwm < 64*1024))
	p99 := medQ(runs, func(f *fleetRun) []time.Duration { return f.plain.latencies }, 0.99)
	p99g := medQ(runs, func(f *fleetRun) []time.Duration { return f.gzip.latencies }, 0.99)
	p50 := medQ(runs, func(f *fleetRun) []time.Duration { return f.plain.latencies }, 0.5)
	p("| `/metrics` scrape under 100 ms | p50 %s, p99 %s; gzip p99 %s | %s |", dur(p50), dur(p99), dur(p99g), benchkit.Verdict(p99 < 100*time.Millisecond))
	ratio := med(runs, func(f *fleetRun) float64 {
		return benchkit.Quantile(f.probeLat["fleet /targets/<name>/readyz"], 0.99).Seconds() / benchkit.Quantile(f.probeLat["single-target /readyz"], 0.99).Seconds()
	})
	p("| probe p99 unchanged from the single-target exporter | `/targets/<name>/readyz` p99 ÷ single-target `/readyz` p99 = %.2f | %s |", ratio, benchkit.Verdict(ratio < 1.25))
	p("")
}

// dur formats a duration as benchkit.Dur does, but none at all as "0".
func dur(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	return benchkit.Dur(d)
}

// size formats a byte count.
func size(b float64) string {
	switch {
	case b >= 1<<20:
		return fmt.Sprintf("%.2f MiB", b/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KiB", b/(1<<10))
	}
	return fmt.Sprintf("%.0f B", b)
}
