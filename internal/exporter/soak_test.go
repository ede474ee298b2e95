package exporter_test

import (
	"encoding/json"
	"runtime"
	"testing"
	"time"

	"github.com/dbhealth/dbhealth-exporter/internal/pgtest"
)

// Thousands of check cycles at a short interval while the database flaps
// and probes and scrapes go on: goroutines and heap must not grow. Growth
// is judged on counts sampled at two generations, never on elapsed time.
func TestSoak_FlappingDatabase_NoGoroutineOrHeapGrowth(t *testing.T) {
	const warmup, cycles = 300, 2000
	cluster := pgtest.New(t)
	proxy := pgtest.NewProxy(t, cluster.Addr())
	ex := startInProcess(t, schedule("postgres://postgres@"+proxy.Addr()+"/postgres?sslmode=disable", 10*time.Millisecond, 8*time.Millisecond))

	generation := func() uint64 {
		_, body := ex.get(t, "/readyz")
		var r struct{ Generation uint64 }
		_ = json.Unmarshal([]byte(body), &r)
		return r.Generation
	}
	sample := func() (goroutines int, heap uint64) {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return runtime.NumGoroutine(), m.HeapAlloc
	}

	stop := make(chan struct{})
	flapped := make(chan int)
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				proxy.Restore()
				flapped <- n
				return
			case <-time.After(40 * time.Millisecond):
			}
			if n%2 == 0 {
				proxy.Refuse()
			} else {
				proxy.Restore()
			}
			n++
		}
	}()
	for generation() < warmup {
		ex.get(t, "/metrics")
	}
	g0, h0 := sample()
	for generation() < cycles {
		ex.get(t, "/metrics")
	}
	close(stop)
	flaps := <-flapped
	g1, h1 := sample()
	t.Logf("%d check cycles, %d flaps: goroutines %d -> %d, heap %d KiB -> %d KiB", cycles, flaps, g0, g1, h0/1024, h1/1024)
	if g1 > g0+5 {
		t.Errorf("goroutines grew from %d to %d over %d cycles", g0, g1, cycles-warmup)
	}
	if h1 > h0*3/2+(1<<20) {
		t.Errorf("heap grew from %d KiB to %d KiB over %d cycles", h0/1024, h1/1024, cycles-warmup)
	}
}
