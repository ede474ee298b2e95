package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dbhealth/dbhealth-exporter/devtools/internal/benchkit"
	"github.com/dbhealth/dbhealth-exporter/internal/pgtest"
)

// schedule is an exporter's --check.interval and --check.timeout.
type schedule struct{ interval, timeout time.Duration }

func (s schedule) String() string {
	return fmt.Sprintf("--check.interval=%s --check.timeout=%s", s.interval, s.timeout)
}

// bound is the theoretical worst case of detection and of recovery: a run
// may have just started (and take up to its timeout) when the database
// changes, and the next one starts an interval later.
func (s schedule) bound() time.Duration { return s.interval + s.timeout }

// pollEvery is how often the outage measurement asks /readyz and tries to
// connect: the resolution of its figures.
const pollEvery = 5 * time.Millisecond

// outage is the outage-detection measurement of one exporter.
type outage struct {
	sched schedule
	// detect: from `pg_ctl stop -m fast` to the first 503 of /readyz.
	detect []time.Duration
	// recover: from the first connection the restarted server accepts to
	// the first 200 of /readyz (can be a few ms negative: both are polled).
	recover []time.Duration
	// startup: from `pg_ctl start` to the first accepted connection, the
	// server's own part of the recovery.
	startup []time.Duration
}

// outagePlan says how many repetitions to run: at least minReps, at most
// maxReps, and no new one once budget has passed or stop is closed.
type outagePlan struct {
	minReps, maxReps int
	budget           time.Duration
	stop             <-chan struct{}
}

func (p outagePlan) more(reps int, started time.Time) bool {
	switch {
	case reps >= p.maxReps:
		return false
	case reps < p.minReps:
		return true
	case time.Since(started) > p.budget:
		return false
	}
	select {
	case <-p.stop:
		return false
	default:
		return true
	}
}

// measureOutages stops and starts c again and again and times how long the
// exporter at base takes to see it. A random pause of up to one interval
// before every stop and start puts them at a random phase of the check
// schedule: without it each step would follow the run that revealed the
// previous one by a fixed delay, and every measurement would be close to a
// whole interval.
func measureOutages(ctx context.Context, c *pgtest.Cluster, base string, sched schedule, plan outagePlan) (outage, error) {
	res := outage{sched: sched}
	client := &http.Client{Timeout: time.Second}
	url := base + "/readyz"
	limit := sched.bound() + 15*time.Second
	jitter := func() { time.Sleep(time.Duration(rand.Int64N(int64(sched.interval)))) }
	started := time.Now()
	for reps := 0; plan.more(reps, started); reps++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		jitter()
		down := poll(ctx, client, url, http.StatusServiceUnavailable, limit)
		stopAt := time.Now()
		if err := c.PgCtl("stop", "-m", "fast"); err != nil {
			return res, err
		}
		r := <-down
		if r.err != nil {
			return res, fmt.Errorf("after stopping the database: %w", r.err)
		}
		res.detect = append(res.detect, r.at.Sub(stopAt))

		jitter()
		up := poll(ctx, client, url, http.StatusOK, limit)
		startAt := time.Now()
		if err := c.PgCtl("start", "-W"); err != nil {
			return res, err
		}
		accepting, err := waitAccepting(ctx, c, time.Minute)
		if err != nil {
			return res, err
		}
		r = <-up
		if r.err != nil {
			return res, fmt.Errorf("after starting the database: %w", r.err)
		}
		res.startup = append(res.startup, accepting.Sub(startAt))
		res.recover = append(res.recover, r.at.Sub(accepting))
	}
	return res, nil
}

type polled struct {
	at  time.Time
	err error
}

// poll starts polling url for want in the background.
func poll(ctx context.Context, client *http.Client, url string, want int, limit time.Duration) <-chan polled {
	ch := make(chan polled, 1)
	go func() {
		at, err := waitStatus(ctx, client, url, want, pollEvery, limit)
		ch <- polled{at, err}
	}()
	return ch
}

// waitAccepting returns when the server first accepted a connection (the
// startup handshake completed).
func waitAccepting(ctx context.Context, c *pgtest.Cluster, timeout time.Duration) (time.Time, error) {
	deadline := time.Now().Add(timeout)
	for {
		attempt, cancel := context.WithTimeout(ctx, time.Second)
		conn, err := pgx.Connect(attempt, c.DSN("postgres"))
		at := time.Now()
		if err == nil {
			conn.Close(attempt)
		}
		cancel()
		if err == nil {
			return at, nil
		}
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("database not accepting connections after %s: %w", timeout, err)
		}
		time.Sleep(pollEvery)
	}
}

// lane is one exporter watching a cluster of its own that the outage
// measurement stops and starts.
type lane struct {
	sched    schedule
	cluster  *pgtest.Cluster
	exporter *benchkit.Proc
	result   outage
}

// runLanes measures every lane at once and merges the results of lanes
// with the same schedule. Lanes with the longest interval run at least
// minReps repetitions and stop after budget; the others keep going until
// those are done.
func runLanes(ctx context.Context, lanes []*lane, minReps int, budget time.Duration) ([]outage, error) {
	var longest time.Duration
	for _, l := range lanes {
		longest = max(longest, l.sched.interval)
	}
	var slow, all sync.WaitGroup
	slowDone := make(chan struct{})
	errs := make([]error, len(lanes))
	for i, l := range lanes {
		plan := outagePlan{minReps: minReps, maxReps: 3 * minReps, budget: budget}
		if l.sched.interval < longest {
			plan = outagePlan{minReps: 2 * minReps, maxReps: 100, budget: budget, stop: slowDone}
		} else {
			slow.Add(1)
		}
		all.Add(1)
		go func() {
			defer all.Done()
			if plan.stop == nil {
				defer slow.Done()
			}
			l.result, errs[i] = measureOutages(ctx, l.cluster, l.exporter.URL, l.sched, plan)
		}()
	}
	slow.Wait()
	close(slowDone)
	all.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	results := make([]outage, len(lanes))
	for i, l := range lanes {
		results[i] = l.result
	}
	return mergeOutages(results), nil
}

// mergeOutages pools the results with the same schedule, shortest interval
// first.
func mergeOutages(results []outage) []outage {
	var merged []outage
	for _, r := range results {
		i := slices.IndexFunc(merged, func(o outage) bool { return o.sched == r.sched })
		if i < 0 {
			merged = append(merged, outage{sched: r.sched})
			i = len(merged) - 1
		}
		m := &merged[i]
		m.detect = append(m.detect, r.detect...)
		m.recover = append(m.recover, r.recover...)
		m.startup = append(m.startup, r.startup...)
	}
	slices.SortFunc(merged, func(a, b outage) int { return int(a.sched.interval - b.sched.interval) })
	return merged
}
