package collectors

import (
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/dbhealth/dbhealth-exporter/internal/health"
	"github.com/dbhealth/dbhealth-exporter/internal/pgtest"
)

// blackHole listens in front of a server. Holding (at first), it accepts
// every connection and never answers; it reads what the client sends only
// to notice when the client closes, and counts the connections open at
// once. Forward turns it into a plain proxy to the server for new
// connections; those it held stay open, unanswered, until their client
// closes them. (pgtest.Proxy's Blackhole accepts and never answers too,
// but it never reads, so it cannot tell when a client gives up, and its
// Restore resets what it held.)
type blackHole struct {
	ln     net.Listener
	target string

	mu         sync.Mutex
	forwarding bool
	held       map[net.Conn]bool
	accepted   int // connections held, ever
	maxOpen    int // most connections held open at once
	wg         sync.WaitGroup
}

func newBlackHole(t *testing.T, target string) *blackHole {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &blackHole{ln: ln, target: target, held: map[net.Conn]bool{}}
	h.wg.Add(1)
	go h.accept()
	t.Cleanup(func() {
		ln.Close()
		h.mu.Lock()
		for c := range h.held {
			c.Close()
		}
		h.mu.Unlock()
		h.wg.Wait()
	})
	return h
}

func (h *blackHole) addr() string { return h.ln.Addr().String() }

func (h *blackHole) accept() {
	defer h.wg.Done()
	for {
		c, err := h.ln.Accept()
		if err != nil {
			return
		}
		h.mu.Lock()
		forwarding := h.forwarding
		if !forwarding {
			h.held[c] = true
			h.accepted++
			h.maxOpen = max(h.maxOpen, len(h.held))
		}
		h.mu.Unlock()
		h.wg.Add(1)
		if forwarding {
			go h.pipe(c)
		} else {
			go h.hold(c)
		}
	}
}

// hold reads and discards until the client closes (or forward resets).
func (h *blackHole) hold(c net.Conn) {
	defer h.wg.Done()
	_, _ = io.Copy(io.Discard, c)
	h.mu.Lock()
	delete(h.held, c)
	h.mu.Unlock()
	c.Close()
}

func (h *blackHole) pipe(client net.Conn) {
	defer h.wg.Done()
	defer client.Close()
	server, err := net.Dial("tcp", h.target)
	if err != nil {
		return
	}
	defer server.Close()
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(server, client)
		server.(*net.TCPConn).CloseWrite()
		close(done)
	}()
	_, _ = io.Copy(client, server)
	client.Close()
	<-done
}

// forward makes the server reachable through the same address.
func (h *blackHole) forward() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.forwarding = true
}

func (h *blackHole) counts() (accepted, maxOpen int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.accepted, h.maxOpen
}

// finishedRun is one run of the loop below.
type finishedRun struct {
	res      health.Result
	details  *DatabaseDetails
	finished time.Time
}

// runEvery runs check as the engine does (at once, then interval after
// each run ends, each run under timeout) until the test ends.
func runEvery(t *testing.T, check *Database, interval, timeout time.Duration) <-chan finishedRun {
	ctx, stop := context.WithCancel(context.Background())
	runs := make(chan finishedRun, 1000)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			runCtx, cancel := context.WithTimeout(ctx, timeout)
			res := check.Run(runCtx)
			cancel()
			if ctx.Err() != nil {
				return
			}
			runs <- finishedRun{res, res.Details.(*DatabaseDetails), time.Now()}
			select {
			case <-time.After(interval):
			case <-ctx.Done():
				return
			}
		}
	}()
	t.Cleanup(func() { stop(); <-done })
	return runs
}

// newConnectionsMetric renders dbhealth_pool_new_connections_total as the check
// exports it from a run's details.
func newConnectionsMetric(t *testing.T, d *DatabaseDetails) float64 {
	t.Helper()
	ch := make(chan prometheus.Metric, 100)
	(*Database)(nil).CollectMetrics("default", health.CheckSnapshot{Last: &health.Outcome{Details: d}}, ch)
	close(ch)
	for m := range ch {
		if strings.Contains(m.Desc().String(), `"dbhealth_pool_new_connections_total"`) {
			var out dto.Metric
			if err := m.Write(&out); err != nil {
				t.Fatal(err)
			}
			return out.GetCounter().GetValue()
		}
	}
	t.Fatal("no dbhealth_pool_new_connections_total")
	return 0
}

func TestDatabase_ServerThatAcceptsAndNeverAnswers_EachRunDialsOnceAndReadinessReturnsWithinIntervalPlusTimeout(t *testing.T) {
	// Short, but not so short that a loaded machine cannot connect to the
	// real server within the timeout.
	const interval, timeout, holding = 250 * time.Millisecond, 200 * time.Millisecond, 20
	cases := []struct {
		name  string
		query string // of the DSN
		phase string
		opts  []PoolOption
	}{
		{"sslmode=prefer, no connect_timeout", "", phaseTLS, []PoolOption{WithConnectTimeout(timeout)}},
		{"connect_timeout=10 (longer than the check's timeout)", "?sslmode=disable&connect_timeout=10", phaseAuth, []PoolOption{WithConnectTimeout(timeout)}},
		{"a pool without the check's timeout: the run's deadline alone", "?sslmode=disable", phaseAuth, nil},
	}
	cluster := pgtest.New(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			hole := newBlackHole(t, cluster.Addr())
			pool := newPool(t, "postgres://postgres@"+hole.addr()+"/postgres"+tc.query, tc.opts...)
			runs := runEvery(t, NewDatabase(pool, DatabaseOptions{}), interval, timeout)

			var lastNew float64
			hung := 0 // runs that dialed and waited for an answer
			for i := range holding {
				r := <-runs
				if r.res.OK() || r.res.Reason != ReasonTimeout {
					t.Fatalf("run %d against the black hole: reason %q (%v)", i, r.res.Reason, r.res.Err)
				}
				if phase := phaseConnect; strings.HasPrefix(r.res.Err.Error(), phase+" ") {
					// On a starved machine the deadline may pass before
					// the dial: the line says so, and no socket opened.
					checkFailureLine(t, r.res.Err.Error(), phase, hole.addr(), true)
				} else {
					checkFailureLine(t, r.res.Err.Error(), tc.phase, hole.addr(), true)
					hung++
				}
				// The attempt is over when its run is: no slot is left
				// constructing, and the next run opens a new connection.
				if p := r.details.Pool; p.ConstructingConns() != 0 || p.TotalConns() != 0 {
					t.Fatalf("run %d: %d connections constructing, %d in the pool after the run", i, p.ConstructingConns(), p.TotalConns())
				}
				if n := newConnectionsMetric(t, r.details); n <= lastNew {
					t.Fatalf("run %d: dbhealth_pool_new_connections_total %v, was %v: the pool is jammed", i, n, lastNew)
				} else {
					lastNew = n
				}
			}
			// One connection per run that dialed (and maybe the next run's),
			// never two open at once.
			accepted, maxOpen := hole.counts()
			if accepted < hung || accepted > holding+1 || maxOpen > 1 {
				t.Fatalf("%d connections reached the black hole in %d runs (%d of them waited for an answer), at most %d open at once; want one per run, one at a time",
					accepted, holding, hung, maxOpen)
			}

			hole.forward()
			restored := time.Now()
			var ready time.Duration
			for r := range runs {
				if took := r.finished.Sub(restored); r.res.OK() || took > interval+timeout {
					if !r.res.OK() || took > interval+timeout {
						t.Fatalf("not ready %s after the server came back (%v), want within interval + timeout = %s", took, r.res.Err, interval+timeout)
					}
					ready = took
					break
				}
			}
			t.Logf("%d runs against the black hole (%d waited for an answer): %d connections accepted, at most %d open at once; ready %s after the server came back",
				holding, hung, accepted, maxOpen, ready)
		})
	}
}
