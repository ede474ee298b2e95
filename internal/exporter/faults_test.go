package exporter_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"go.uber.org/goleak"

	"github.com/dbhealth/dbhealth-exporter/internal/collectors"
	"github.com/dbhealth/dbhealth-exporter/internal/exporter"
	"github.com/dbhealth/dbhealth-exporter/internal/pgtest"
)

// The fault suite puts real faults between the exporter and a throwaway
// cluster, or on the cluster itself, and checks that under each one the
// exporter keeps telling the truth (readiness and the reason), keeps
// answering probes from memory, heals by itself, and leaks nothing.

const (
	faultInterval = time.Second
	faultTimeout  = 800 * time.Millisecond
)

// toxic is an in-process toxiproxy in front of addr.
type toxic struct {
	proxy *toxiproxy.Proxy
}

func newToxic(t *testing.T, upstream string) *toxic {
	t.Helper()
	server := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	p := toxiproxy.NewProxy(server, "postgres", "127.0.0.1:0", upstream)
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	return &toxic{proxy: p}
}

func (x *toxic) addr() string { return x.proxy.Listen }

func (x *toxic) add(t *testing.T, name, kind string, attrs map[string]any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"name": name, "type": kind, "stream": "downstream", "attributes": attrs})
	if _, err := x.proxy.Toxics.AddToxicJson(strings.NewReader(string(body))); err != nil {
		t.Fatal(err)
	}
}

func (x *toxic) remove(t *testing.T, name string) {
	t.Helper()
	if err := x.proxy.Toxics.RemoveToxic(context.Background(), name); err != nil {
		t.Fatal(err)
	}
}

// probeWatch hits /livez and /readyz every 10ms and keeps statuses and
// latencies, to show that probes answer from memory whatever the database
// does.
type probeWatch struct {
	mu        sync.Mutex
	liveFails []int
	latencies []time.Duration
	stop      chan struct{}
	done      chan struct{}
}

func watchProbes(ex *inProcess) *probeWatch {
	w := &probeWatch{stop: make(chan struct{}), done: make(chan struct{})}
	client := &http.Client{Timeout: 5 * time.Second}
	go func() {
		defer close(w.done)
		defer client.CloseIdleConnections()
		for {
			select {
			case <-w.stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			for _, path := range []string{"/livez", "/readyz"} {
				start := time.Now()
				resp, err := client.Get(ex.url + path)
				took := time.Since(start)
				code := 0
				if err == nil {
					code = resp.StatusCode
					resp.Body.Close()
				}
				w.mu.Lock()
				w.latencies = append(w.latencies, took)
				if path == "/livez" && code != http.StatusOK {
					w.liveFails = append(w.liveFails, code)
				}
				w.mu.Unlock()
			}
		}
	}()
	return w
}

// finish stops the watch and returns the slowest probe and the p99.
func (w *probeWatch) finish() (max, p99 time.Duration, liveFails []int) {
	close(w.stop)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	slices.Sort(w.latencies)
	if n := len(w.latencies); n > 0 {
		max, p99 = w.latencies[n-1], w.latencies[n*99/100]
	}
	return max, p99, w.liveFails
}

// readyz reads /readyz: status and the database check's reason.
func (ex *inProcess) readyzReason(t *testing.T) (status, reason string) {
	t.Helper()
	_, body := ex.get(t, "/readyz")
	var r struct {
		Status string
		Checks map[string]struct{ Reason string }
	}
	_ = json.Unmarshal([]byte(body), &r)
	return r.Status, r.Checks["database"].Reason
}

func (ex *inProcess) waitFor(t *testing.T, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := start.Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			status, reason := ex.readyzReason(t)
			t.Fatalf("waited 15s for %s; /readyz is %s (%s)", what, status, reason)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}

// fault is one scenario: a way to break the path to the database, the
// reason the exporter must then report, and the way to heal it.
type fault struct {
	name    string
	reason  string
	options []pgtest.Option
	// via decides what the exporter connects to, and how.
	via    func(t *testing.T, f *faultEnv) exporter.Database
	inject func(t *testing.T, f *faultEnv)
	heal   func(t *testing.T, f *faultEnv)
}

type faultEnv struct {
	cluster *pgtest.Cluster
	toxic   *toxic
	db      string
	held    []*pgx.Conn
	replica *pgtest.Cluster
}

func direct(t *testing.T, f *faultEnv) exporter.Database {
	return exporter.Database{DSN: f.cluster.DSN(f.db)}
}

func throughToxiproxy(t *testing.T, f *faultEnv) exporter.Database {
	f.toxic = newToxic(t, f.cluster.Addr())
	return exporter.Database{DSN: "postgres://postgres@" + f.toxic.addr() + "/" + f.db + "?sslmode=disable"}
}

// handshakeBytes is how many bytes the server sends to a new connection of
// the exporter before it may send a query: cutting the stream a few bytes
// later cuts the first query's answer in the middle.
func handshakeBytes(t *testing.T, dsn string) int {
	t.Helper()
	cfg, err := collectors.PoolConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	var counted int
	dial := cfg.ConnConfig.DialFunc
	cfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		return &countingConn{Conn: c, n: &counted}, err
	}
	conn, err := pgx.ConnectConfig(context.Background(), cfg.ConnConfig)
	if err != nil {
		t.Fatal(err)
	}
	n := counted
	conn.Close(context.Background())
	return n
}

type countingConn struct {
	net.Conn
	n *int
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	*c.n += n
	return n, err
}

func hold(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

// pgtestWatchdog is the harness's process-wide guard against orphaned
// clusters, started with the first cluster and meant to outlive every test.
var pgtestWatchdog = goleak.IgnoreAnyFunction("github.com/dbhealth/dbhealth-exporter/internal/pgtest.startWatchdog.func1.1")

var faults = []fault{
	{name: "latency beyond the timeout", reason: collectors.ReasonTimeout, via: throughToxiproxy,
		inject: func(t *testing.T, f *faultEnv) { f.toxic.add(t, "slow", "latency", map[string]any{"latency": 2000}) },
		heal:   func(t *testing.T, f *faultEnv) { f.toxic.remove(t, "slow") }},
	{name: "blackhole", reason: collectors.ReasonTimeout, via: throughToxiproxy,
		inject: func(t *testing.T, f *faultEnv) { f.toxic.add(t, "hole", "timeout", map[string]any{"timeout": 0}) },
		heal:   func(t *testing.T, f *faultEnv) { f.toxic.remove(t, "hole") }},
	{name: "connection reset mid-query", reason: collectors.ReasonOther, via: throughToxiproxy,
		inject: func(t *testing.T, f *faultEnv) {
			n := handshakeBytes(t, f.cluster.DSN(f.db))
			f.toxic.add(t, "cut", "limit_data", map[string]any{"bytes": n + 10})
		},
		heal: func(t *testing.T, f *faultEnv) { f.toxic.remove(t, "cut") }},
	{name: "restart", reason: collectors.ReasonRefused, via: direct,
		inject: func(t *testing.T, f *faultEnv) { f.cluster.Stop(t) },
		heal:   func(t *testing.T, f *faultEnv) { f.cluster.Start(t) }},
	{name: "kill -9 of the postmaster", reason: collectors.ReasonRefused, via: direct,
		inject: func(t *testing.T, f *faultEnv) { f.cluster.Kill(t) },
		heal:   func(t *testing.T, f *faultEnv) { f.cluster.Start(t) }},
	{name: "max_connections exhausted", reason: collectors.ReasonTooManyConnections, via: direct,
		options: []pgtest.Option{pgtest.WithSetting("max_connections", "4"), pgtest.WithSetting("superuser_reserved_connections", "0")},
		inject: func(t *testing.T, f *faultEnv) {
			for range 4 {
				f.held = append(f.held, hold(t, f.cluster.DSN("postgres")))
			}
		},
		heal: func(t *testing.T, f *faultEnv) {
			for _, c := range f.held {
				c.Close(context.Background())
			}
		}},
	{name: "password changed", reason: collectors.ReasonAuthFailed,
		via: func(t *testing.T, f *faultEnv) exporter.Database {
			f.cluster.CreateRole(t, "app", "first-password")
			return exporter.Database{DSN: f.cluster.RoleDSN("app", "first-password", f.db)}
		},
		inject: func(t *testing.T, f *faultEnv) { f.cluster.Exec(t, "postgres", "ALTER ROLE app PASSWORD 'rotated'") },
		heal: func(t *testing.T, f *faultEnv) {
			f.cluster.Exec(t, "postgres", "ALTER ROLE app PASSWORD 'first-password'")
		}},
	{name: "database dropped", reason: collectors.ReasonDatabaseMissing, via: direct,
		inject: func(t *testing.T, f *faultEnv) { f.cluster.Exec(t, "postgres", "DROP DATABASE "+f.db+" WITH (FORCE)") },
		heal:   func(t *testing.T, f *faultEnv) { f.cluster.Exec(t, "postgres", "CREATE DATABASE "+f.db) }},
	{name: "replica until promoted", reason: collectors.ReasonReadOnly,
		via: func(t *testing.T, f *faultEnv) exporter.Database {
			f.replica = pgtest.New(t, pgtest.WithReplicaOf(f.cluster))
			return exporter.Database{DSN: f.replica.DSN(f.db), Expect: "primary"}
		},
		inject: func(t *testing.T, f *faultEnv) {}, // it is a replica from the start
		heal:   func(t *testing.T, f *faultEnv) { f.replica.Promote(t) }},
}

func TestFaults_ReadinessTellsTheTruthProbesStayFastAndTheExporterHeals(t *testing.T) {
	for _, fc := range faults {
		t.Run(fc.name, func(t *testing.T) {
			// Registered first, so it runs last: after the exporter, the
			// proxies and the cluster are gone, nothing of ours may be left.
			ignore := goleak.IgnoreCurrent()
			t.Cleanup(func() { goleak.VerifyNone(t, ignore, pgtestWatchdog) })

			env := &faultEnv{cluster: pgtest.New(t, fc.options...), db: "app"}
			env.cluster.Exec(t, "postgres", "CREATE DATABASE app")
			cfg := schedule("", faultInterval, faultTimeout)
			cfg.Database = fc.via(t, env)
			ex := startInProcess(t, cfg)
			if fc.reason != collectors.ReasonReadOnly {
				ex.waitFor(t, "ready", func() bool { s, _ := ex.readyzReason(t); return s == "ready" })
			}

			watch := watchProbes(ex)
			fc.inject(t, env)
			took := ex.waitFor(t, "not ready with reason "+fc.reason, func() bool {
				s, r := ex.readyzReason(t)
				return s == "not_ready" && r == fc.reason
			})
			// Let the fault last a few more check runs while the probes go on.
			time.Sleep(2 * faultInterval)
			fc.heal(t, env)
			healed := ex.waitFor(t, "ready again", func() bool { s, _ := ex.readyzReason(t); return s == "ready" })
			slowest, p99, liveFails := watch.finish()
			t.Logf("detected in %s (bound interval+timeout = %s), healed in %s; probes p99 %s, slowest %s",
				took, faultInterval+faultTimeout, healed, p99, slowest)

			if len(liveFails) > 0 {
				t.Errorf("liveness failed %d times during the fault: %v", len(liveFails), liveFails)
			}
			// Probes that waited on the database would take the check's
			// timeout; answering from memory they take milliseconds. The
			// p99, not the slowest, is compared: on a shared machine one
			// probe may be descheduled for longer.
			if p99 >= faultTimeout/2 {
				t.Errorf("probe p99 %s while the database was unusable: probes must not wait on it", p99)
			}
			_, metrics := ex.get(t, "/metrics")
			if v, _ := sample(metrics, `dbhealth_pool_acquired_connections{target="default"}`); v != 0 {
				t.Errorf("%v pool connections still acquired after healing", v)
			}
		})
	}
}
