package health

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// backstop is how long past its own timeout a run may take before the
// engine stops waiting for it. A Checker that honours its context returns
// at its timeout with a result of its own; the backstop only catches one
// that does not.
const backstop = 500 * time.Millisecond

// schedule runs one check until ctx is done: a run after wait, then a run
// d.Interval after the end of the previous one.
func (e *Engine) schedule(ctx context.Context, d Definition, wait time.Duration) {
	if wait > 0 {
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return
		}
	}
	slow := false // the previous run took at least half its timeout
	for {
		stuck, took := e.runOnce(ctx, d, slow)
		slow = took >= d.Timeout/2
		if stuck != nil {
			// The Checker ignored its deadline. Its timeout is published;
			// the next run waits until it returns, so that a wedged
			// Checker costs one goroutine, not one per interval, and
			// liveness sees that no run starts any more.
			select {
			case <-stuck:
			case <-ctx.Done():
				return
			}
		}
		select {
		case <-time.After(d.Interval):
		case <-ctx.Done():
			return
		}
	}
}

// runOnce runs the check once under its timeout, inside the run's span, and
// publishes what it found; slow takes a slow slot (Slots). It returns a
// channel that closes when the Checker finally returns if it overran the
// backstop, nil otherwise, and how long the run took.
func (e *Engine) runOnce(ctx context.Context, d Definition, slow bool) (stuck <-chan struct{}, took time.Duration) {
	if e.slots != nil {
		release := e.slots.acquire(ctx, slow)
		if release == nil {
			return nil, 0
		}
		defer release()
	}
	started := e.now()
	e.lastStart.Store(started.UnixNano())
	ctx, span := startSpan(ctx, e.tracer, d, e.target, started)
	res, stuck := call(ctx, d)
	finished := e.now()
	if ctx.Err() == nil {
		e.store.publish(ctx, finishedRun{check: d.Name, started: started, finished: finished, result: res})
	}
	span.End(trace.WithTimestamp(finished))
	return stuck, finished.Sub(started)
}

// The reasons the engine itself gives: a run that overran its backstop, a
// Checker that panicked, a failed Result without a reason.
const (
	reasonTimeout = "timeout"
	reasonPanic   = "panic"
	reasonOther   = "other"
)

// call runs the Checker in a goroutine of its own under d.Timeout, turning
// a panic into a failed Result and waiting at most the backstop past the
// timeout.
func call(ctx context.Context, d Definition) (Result, <-chan struct{}) {
	ctx, cancel := context.WithTimeout(ctx, d.Timeout)
	defer cancel()
	out := make(chan Result, 1)
	returned := make(chan struct{})
	go func() {
		defer close(returned)
		defer func() {
			if r := recover(); r != nil {
				out <- Result{Err: fmt.Errorf("check panicked: %v", r), Reason: reasonPanic}
			}
		}()
		out <- d.Checker.Run(ctx)
	}()
	timer := time.NewTimer(d.Timeout + backstop)
	defer timer.Stop()
	select {
	case res := <-out:
		return res, nil
	case <-timer.C:
		return Result{
			Err:    fmt.Errorf("check did not return within its timeout of %s", d.Timeout),
			Reason: reasonTimeout,
		}, returned
	}
}
