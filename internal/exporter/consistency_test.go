package exporter_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dbhealth/dbhealth-exporter/internal/pgtest"
)

// While the database flips between reachable and refused, every /readyz
// body and every scrape names its generation; for any generation seen by
// both, they must agree on readiness.
func TestConsistency_ReadyzAndMetricsNeverDisagreeForAGeneration(t *testing.T) {
	cluster := pgtest.New(t)
	proxy := pgtest.NewProxy(t, cluster.Addr())
	ex := startInProcess(t, schedule("postgres://postgres@"+proxy.Addr()+"/postgres?sslmode=disable", 50*time.Millisecond, 40*time.Millisecond))
	ex.waitReadiness(t, "ready")

	var mu sync.Mutex
	fromProbe := map[uint64]bool{}
	fromScrape := map[uint64]bool{}
	record := func(m map[uint64]bool, gen uint64, ready bool) {
		mu.Lock()
		defer mu.Unlock()
		if prev, seen := m[gen]; seen && prev != ready {
			t.Errorf("generation %d answered both ready and not ready by the same endpoint", gen)
		}
		m[gen] = ready
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { // the database flaps
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				proxy.Restore()
				return
			case <-time.After(150 * time.Millisecond):
			}
			if i%2 == 0 {
				proxy.Refuse()
			} else {
				proxy.Restore()
			}
		}
	}()
	go func() { // a readiness prober
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			code, body := ex.get(t, "/readyz")
			var r struct {
				Status     string `json:"status"`
				Database   string `json:"database"`
				Generation uint64 `json:"generation"`
			}
			if err := json.Unmarshal([]byte(body), &r); err != nil {
				t.Errorf("bad /readyz body: %v", err)
				return
			}
			ready := r.Status == "ready"
			if ready != (code == http.StatusOK) || ready != (r.Database == "ok") {
				t.Errorf("/readyz disagrees with itself: %d %+v", code, r)
			}
			record(fromProbe, r.Generation, ready)
		}
	}()
	go func() { // a scraper
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			_, body := ex.get(t, "/metrics")
			gen, okGen := sample(body, "dbhealth_snapshot_generation")
			ready, okReady := sample(body, "dbhealth_ready")
			if !okGen || !okReady {
				t.Errorf("scrape without generation or readiness")
				return
			}
			record(fromScrape, uint64(gen), ready == 1)
		}
	}()
	time.Sleep(3 * time.Second)
	close(stop)
	wg.Wait()

	var both, readyGens, notReadyGens int
	for gen, probeReady := range fromProbe {
		scrapeReady, ok := fromScrape[gen]
		if !ok {
			continue
		}
		both++
		if probeReady != scrapeReady {
			t.Errorf("generation %d: /readyz ready=%v, dbhealth_ready=%v", gen, probeReady, scrapeReady)
		}
		if probeReady {
			readyGens++
		} else {
			notReadyGens++
		}
	}
	t.Logf("%d generations seen by both (%d ready, %d not ready); %d by /readyz, %d by /metrics",
		both, readyGens, notReadyGens, len(fromProbe), len(fromScrape))
	if readyGens == 0 || notReadyGens == 0 {
		t.Fatalf("the database did not flap as seen by both endpoints: %d ready, %d not ready", readyGens, notReadyGens)
	}
}

// sample returns the value of an unlabelled metric in an exposition.
func sample(exposition, name string) (float64, bool) {
	for _, line := range strings.Split(exposition, "\n") {
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return v, err == nil
		}
	}
	return 0, false
}
