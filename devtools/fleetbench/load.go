package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/dbhealth/dbhealth-exporter/devtools/internal/benchkit"
)

// prometheusAccept is the Accept header Prometheus sends with a scrape;
// it asks for gzip too (Accept-Encoding: gzip), added where the
// measurement wants it.
const prometheusAccept = "application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2"

// newClient is an HTTP client keeping up to conns connections alive that
// leaves the body as it came on the wire (gzip is not undone for it), so
// that sizes are the wire's.
func newClient(conns int, timeout time.Duration) *http.Client {
	return &http.Client{
		Transport: &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true},
		Timeout:   timeout,
	}
}

// fetch GETs url and returns the status, the body as sent (wire bytes)
// and the body as meant (gunzipped when it came compressed).
func fetch(ctx context.Context, client *http.Client, url string, header http.Header) (code int, wire int, body []byte, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, 0, nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, len(raw), nil, err
	}
	body = raw
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return resp.StatusCode, len(raw), nil, err
		}
		if body, err = io.ReadAll(zr); err != nil {
			return resp.StatusCode, len(raw), nil, err
		}
	}
	return resp.StatusCode, len(raw), body, nil
}

// block is one path requested back to back over one connection, as one
// Prometheus scrapes one target.
type block struct {
	latencies []time.Duration
	wire      int    // bytes on the wire of the last answer
	first     []byte // the first answer, decompressed
	elapsed   time.Duration
	cpu       time.Duration // the server's CPU time during the block
}

// runBlock GETs url back to back for d (at least twice), and measures the
// server's (pid's) CPU meanwhile.
func runBlock(ctx context.Context, client *http.Client, pid int, url string, header http.Header, d time.Duration) (block, error) {
	var b block
	cpu0, start := benchkit.ProcCPU(pid), time.Now()
	for len(b.latencies) < 2 || time.Since(start) < d {
		t := time.Now()
		code, wire, body, err := fetch(ctx, client, url, header)
		if err != nil {
			return b, err
		}
		if code != http.StatusOK {
			return b, fmt.Errorf("GET %s: %d", url, code)
		}
		b.latencies = append(b.latencies, time.Since(t))
		b.wire = wire
		if b.first == nil {
			b.first = body
		}
	}
	b.elapsed, b.cpu = time.Since(start), benchkit.ProcCPU(pid)-cpu0
	return b, nil
}

// probePath is one path of the probe load: its label in the report and
// the URL of each request.
type probePath struct {
	label  string
	client *http.Client
	url    func(i int) string
}

// probeLoad sends rate requests a second, taking the paths in turn (so
// that each sees the same moments of the machine), from workers
// goroutines, for d, and returns each path's latencies and failures (an
// answer other than 200 is one).
func probeLoad(ctx context.Context, paths []probePath, rate, workers int, d time.Duration) (map[string][]time.Duration, map[string]int) {
	lat := map[string][]time.Duration{}
	fails := map[string]int{}
	var mu sync.Mutex
	every := time.Second * time.Duration(workers) / time.Duration(rate)
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			next := time.Now().Add(every * time.Duration(w) / time.Duration(workers))
			for i := w; time.Now().Before(stop) && ctx.Err() == nil; i += workers {
				time.Sleep(time.Until(next))
				next = next.Add(every)
				p := paths[i%len(paths)]
				t := time.Now()
				code, _, _, err := fetch(ctx, p.client, p.url(i/len(paths)), nil)
				elapsed := time.Since(t)
				mu.Lock()
				if err != nil || code != http.StatusOK {
					fails[p.label]++
				} else {
					lat[p.label] = append(lat[p.label], elapsed)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return lat, fails
}

// scrape is one scrape of a Prometheus-like scraper.
type scrape struct {
	start, end time.Time
	wire       int
	ok         bool // 200, and the answer says the database is up
}

// scraper scrapes every URL once an interval, as Prometheus does with a
// scrape pool of that many targets: each target at its own offset in the
// interval (here spread evenly), with the scrape timeout, in parallel
// across targets.
type scraper struct {
	mu      sync.Mutex
	scrapes []scrape
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

func startScraper(ctx context.Context, urls []string, interval, timeout time.Duration, up func([]byte) bool) *scraper {
	ctx, cancel := context.WithCancel(ctx)
	s := &scraper{cancel: cancel}
	client := newClient(len(urls), timeout)
	header := http.Header{"Accept": {prometheusAccept}, "Accept-Encoding": {"gzip"}}
	start := time.Now()
	for i, url := range urls {
		offset := interval * time.Duration(i) / time.Duration(len(urls))
		s.wg.Go(func() {
			next := start.Add(offset)
			for {
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Until(next)):
				}
				next = next.Add(interval)
				t := time.Now()
				code, wire, body, err := fetch(ctx, client, url, header)
				if ctx.Err() != nil {
					return
				}
				s.mu.Lock()
				s.scrapes = append(s.scrapes, scrape{start: t, end: time.Now(), wire: wire, ok: err == nil && code == http.StatusOK && up(body)})
				s.mu.Unlock()
			}
		})
	}
	return s
}

// stop ends the scrapes and waits for those in flight.
func (s *scraper) stop() {
	s.cancel()
	s.wg.Wait()
}

// between returns the scrapes that started in [from, to).
func (s *scraper) between(from, to time.Time) []scrape {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []scrape
	for _, sc := range s.scrapes {
		if !sc.start.Before(from) && sc.start.Before(to) {
			out = append(out, sc)
		}
	}
	return out
}
