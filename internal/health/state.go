package health

// Status is a check's verdict as probes and metrics show it.
type Status string

// The statuses of a check. StatusStale is never a threshold state: it
// overrides ok or failing when the last result is too old.
const (
	StatusOK      Status = "ok"
	StatusFailing Status = "failing"
	StatusUnknown Status = "unknown" // no run has finished yet
	StatusStale   Status = "stale"   // the last result is older than the staleness bound
)

// AllStatuses lists every Status, in a stable order (metrics emit one series
// per status).
var AllStatuses = []Status{StatusOK, StatusFailing, StatusUnknown, StatusStale}

// streak counts the latest run of equal outcomes.
type streak struct {
	failures  int // consecutive failed runs, 0 after a success
	successes int // consecutive passed runs, 0 after a failure
}

// next returns the streak after one more run.
func (s streak) next(ok bool) streak {
	if ok {
		return streak{successes: s.successes + 1}
	}
	return streak{failures: s.failures + 1}
}

// nextState applies the failure and success thresholds to one finished run.
// prev is StatusOK, StatusFailing or StatusUnknown (before the first run);
// s already includes the run.
//
//   - A check that has never succeeded is failing from its first failure:
//     cold start is not a grace period for a broken database.
//   - A check whose first run succeeds is ok at once (cold start does not
//     wait for a streak); one that has failed since start is failing and,
//     like any failing check, needs successThreshold successes.
//   - An ok check turns failing after failureThreshold consecutive failures.
//   - A failing check turns ok after successThreshold consecutive successes.
func nextState(prev Status, s streak, failureThreshold, successThreshold int) Status {
	switch {
	case s.failures == 0 && prev == StatusFailing:
		if s.successes >= successThreshold {
			return StatusOK
		}
		return StatusFailing
	case s.failures == 0:
		return StatusOK
	case prev == StatusOK:
		if s.failures >= failureThreshold {
			return StatusFailing
		}
		return StatusOK
	default:
		return StatusFailing
	}
}
