package main

import (
	"testing"
	"time"
)

// The harness reads wrk through its Lua done() hook; this is what wrk 4.1
// prints with it.
const wrkOutput = `Running 5s test @ http://127.0.0.1:40123/readyz
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   412.35us  301.20us  12.04ms   95.12%
    Req/Sec    39.81k     1.92k   42.55k    78.00%
  198101 requests in 5.00s, 105.26MB read
Requests/sec:  39612.44
Transfer/sec:     21.05MB
WRKRESULT requests=198101 duration_us=5001018 bytes=110374302 errors=0 status=3 p50=355 p99=1630 p999=4100 max=12040
`

func TestParseWrk(t *testing.T) {
	r, err := parseWrk(wrkOutput)
	if err != nil {
		t.Fatal(err)
	}
	want := wrkResult{Requests: 198101, Duration: 5001018 * time.Microsecond, Bytes: 110374302, NonOK: 3,
		P50: 355 * time.Microsecond, P99: 1630 * time.Microsecond, P999: 4100 * time.Microsecond, Max: 12040 * time.Microsecond}
	if r != want {
		t.Fatalf("got %+v\nwant %+v", r, want)
	}
	if rps := r.RPS(); rps < 39612 || rps > 39613 {
		t.Errorf("RPS %.2f", rps)
	}
	if _, err := parseWrk("Running 5s test\n"); err == nil {
		t.Error("output without WRKRESULT parsed")
	}
	if _, err := parseWrk("WRKRESULT requests=1\n"); err == nil {
		t.Error("incomplete WRKRESULT parsed")
	}
}

func TestStatistics(t *testing.T) {
	ms := func(xs ...int) []time.Duration {
		var ds []time.Duration
		for _, x := range xs {
			ds = append(ds, time.Duration(x)*time.Millisecond)
		}
		return ds
	}
	ds := ms(50, 10, 40, 20, 30)
	if got := medianDuration(ms(10, 40, 20, 30)); got != 25*time.Millisecond {
		t.Errorf("median of an even count = %s", got)
	}
	if got := mean(ds); got != 30*time.Millisecond {
		t.Errorf("mean = %s", got)
	}
}

func TestOutagePlan(t *testing.T) {
	stop := make(chan struct{})
	p := outagePlan{minReps: 2, maxReps: 4, budget: time.Hour, stop: stop}
	now := time.Now()
	if !p.more(0, now) || !p.more(3, now) || p.more(4, now) {
		t.Error("repetitions not between min and max")
	}
	close(stop)
	if !p.more(1, now) || p.more(2, now) {
		t.Error("stop must end the repetitions once the minimum is reached")
	}
	if (outagePlan{minReps: 1, maxReps: 9, budget: time.Second}).more(1, now.Add(-time.Minute)) {
		t.Error("budget ignored")
	}
}

func TestParseCheckTotals(t *testing.T) {
	body := []byte(`# HELP dbhealth_check_duration_seconds How long check runs took.
# TYPE dbhealth_check_duration_seconds histogram
dbhealth_check_duration_seconds_bucket{check="database",target="default",le="0.001"} 0
dbhealth_check_duration_seconds_sum{check="database",target="default"} 0.125
dbhealth_check_duration_seconds_count{check="database",target="default"} 25
dbhealth_check_duration_seconds_count{check="migrations",target="default"} 7
`)
	got := parseCheckTotals(body)
	if got != (checkTotals{runs: 25, seconds: 0.125}) {
		t.Fatalf("%+v", got)
	}
	if b := between(checkTotals{runs: 5, seconds: 0.025}, got); b.runs != 20 || b.mean != 5*time.Millisecond {
		t.Errorf("%+v", b)
	}
}

func TestMergeOutages(t *testing.T) {
	a := outage{sched: sched10, detect: []time.Duration{1}, recover: []time.Duration{2}, startup: []time.Duration{3}}
	b := outage{sched: sched1, detect: []time.Duration{4}, recover: []time.Duration{5}, startup: []time.Duration{6}}
	c := outage{sched: sched10, detect: []time.Duration{7}, recover: []time.Duration{8}, startup: []time.Duration{9}}
	got := mergeOutages([]outage{a, b, c})
	if len(got) != 2 || got[0].sched != sched1 || got[1].sched != sched10 {
		t.Fatalf("%+v", got)
	}
	if len(got[1].detect) != 2 || got[1].detect[1] != 7 || got[1].recover[0] != 2 || got[1].startup[1] != 9 {
		t.Errorf("10s pooled wrong: %+v", got[1])
	}
}
