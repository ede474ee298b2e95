package health

import (
	"fmt"
	"slices"
	"testing"
)

// FuzzNextState runs a check through a fuzzed sequence of outcomes (one bit
// per byte) with thresholds 1..5 and checks the threshold rules at every
// step:
//
//   - the state is ok or failing after every run;
//   - a check that has never succeeded is failing after each failure;
//   - the very first run decides at once (ok or failing);
//   - after successThreshold consecutive successes the state is ok, after
//     failureThreshold consecutive failures it is failing;
//   - ok turns failing only on a failure and failing turns ok only on a
//     success (no flapping against the outcome);
//   - an ok check stays ok below failureThreshold failures; a failing check
//     that was ok before stays failing below successThreshold successes.
//     (Whether a check that has failed since start and never succeeded
//     needs successThreshold successes is left open: the code says yes,
//     the doc's "the first success after start is ok at once" may say no.)
//
// The streak counts the latest run of equal outcomes.
func FuzzNextState(f *testing.F) {
	f.Add([]byte{0}, uint8(2), uint8(0))
	f.Add([]byte{0, 0, 0, 1}, uint8(2), uint8(0))
	f.Add([]byte{1}, uint8(0), uint8(2))
	f.Add([]byte{1, 0, 0, 0}, uint8(2), uint8(0))
	f.Add([]byte{1, 0, 1, 0, 0}, uint8(1), uint8(0))
	f.Add([]byte{1, 0, 1, 1}, uint8(0), uint8(1))
	f.Add([]byte{0, 1, 0, 1, 1}, uint8(0), uint8(1))
	f.Add([]byte{1, 0, 1, 0}, uint8(0), uint8(0))
	f.Add([]byte{1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 1}, uint8(4), uint8(4))
	f.Add([]byte{}, uint8(3), uint8(3))
	f.Fuzz(func(t *testing.T, outcomes []byte, failByte, succByte uint8) {
		if len(outcomes) > 256 {
			return // longer sequences reach no other code, and slow minimisation
		}
		ft, st := int(failByte%5)+1, int(succByte%5)+1
		state, streak := StatusUnknown, streak{}
		succeeded := false
		for i, b := range outcomes {
			ok := b&1 == 1
			prev, prevStreak := state, streak
			streak = streak.next(ok)
			state = nextState(prev, streak, ft, st)
			where := func() string {
				return fmt.Sprintf("run %d (ok=%v) of %v, thresholds fail=%d success=%d: %s -> %s, streak %+v",
					i+1, ok, outcomes[:i+1], ft, st, prev, state, streak)
			}

			switch {
			case ok && (streak.successes != prevStreak.successes+1 || streak.failures != 0):
				t.Fatalf("%s: success streak not extended from %+v", where(), prevStreak)
			case !ok && (streak.failures != prevStreak.failures+1 || streak.successes != 0):
				t.Fatalf("%s: failure streak not extended from %+v", where(), prevStreak)
			}
			if state != StatusOK && state != StatusFailing {
				t.Fatalf("%s: not a threshold state", where())
			}
			if !succeeded && !ok && state != StatusFailing {
				t.Fatalf("%s: a check that never succeeded must fail from its first failure", where())
			}
			if i == 0 && ok && state != StatusOK {
				t.Fatalf("%s: the first success is ok at once", where())
			}
			if streak.successes >= st && state != StatusOK {
				t.Fatalf("%s: %d consecutive successes must make it ok", where(), streak.successes)
			}
			if streak.failures >= ft && state != StatusFailing {
				t.Fatalf("%s: %d consecutive failures must make it failing", where(), streak.failures)
			}
			if prev == StatusOK && state == StatusFailing && ok {
				t.Fatalf("%s: turned failing on a success", where())
			}
			if prev == StatusFailing && state == StatusOK && !ok {
				t.Fatalf("%s: turned ok on a failure", where())
			}
			if prev == StatusOK && !ok && streak.failures < ft && state != StatusOK {
				t.Fatalf("%s: an ok check tolerates %d failures", where(), ft-1)
			}
			if succeeded && prev == StatusFailing && ok && streak.successes < st && state != StatusFailing {
				t.Fatalf("%s: a failing check needs %d successes", where(), st)
			}
			succeeded = succeeded || ok
		}
	})
}

// fuzzChecks decodes one check per byte: bit 0 critical, bits 1-2 the
// threshold state (ok, failing, unknown, ok), bit 3 stale, bits 5-7 the name
// (c0..c7, so names repeat).
func fuzzChecks(spec []byte) []CheckSnapshot {
	states := []Status{StatusOK, StatusFailing, StatusUnknown, StatusOK}
	checks := make([]CheckSnapshot, len(spec))
	for i, b := range spec {
		checks[i] = CheckSnapshot{
			Definition: Definition{Name: fmt.Sprintf("c%d", b>>5), Critical: b&1 == 1},
			Status:     states[(b>>1)&3],
		}
		if b&8 != 0 {
			checks[i].Status = StatusStale
		}
	}
	return checks
}

// FuzzVerdict checks Verdict against its definition over fuzzed check
// lists, exclusions (a bit mask over the names c0..c7) and shutdown:
// shutting_down whenever shutting down; otherwise not_ready iff a counted
// (critical, not excluded) check is failing or stale, else starting iff a
// counted check is unknown, else ready. The verdict does not depend on the
// order of the checks or on non-critical ones, and matches CheckVerdict of
// the counted checks.
func FuzzVerdict(f *testing.F) {
	f.Add([]byte{}, false, uint8(0))
	f.Add([]byte{0b001, 0b0100001}, false, uint8(0))                 // ok, ok
	f.Add([]byte{0b001, 0b0100101}, false, uint8(0))                 // ok, unknown
	f.Add([]byte{0b101, 0b0100011}, false, uint8(0))                 // unknown, failing
	f.Add([]byte{0b1001}, false, uint8(0))                           // stale ok
	f.Add([]byte{0b1101}, false, uint8(0))                           // stale unknown
	f.Add([]byte{0b001, 0b0100010}, false, uint8(0))                 // non-critical failing
	f.Add([]byte{0b001}, true, uint8(0))                             // shutting down
	f.Add([]byte{0b011}, true, uint8(0))                             // shutting down, failing
	f.Add([]byte{0b001, 0b0100011}, false, uint8(0b10))              // c1 failing, excluded
	f.Add([]byte{0b0100011, 0b0100001, 0b011}, false, uint8(0b1))    // duplicate names
	f.Add([]byte{0b11100011, 0b11100101, 0b001}, false, uint8(0x80)) // c7 excluded
	f.Fuzz(func(t *testing.T, spec []byte, shuttingDown bool, excludedMask uint8) {
		if len(spec) > 64 {
			return // longer lists reach no other code, and slow minimisation
		}
		checks := fuzzChecks(spec)
		excluded := func(name string) bool {
			var n int
			_, _ = fmt.Sscanf(name, "c%d", &n)
			return excludedMask&(1<<n) != 0
		}
		got := Verdict(checks, shuttingDown, excluded)

		want := ReadinessReady
		for _, c := range checks {
			if !c.Critical || excluded(c.Name) {
				continue
			}
			switch s := c.Status; {
			case s == StatusFailing || s == StatusStale:
				want = ReadinessNotReady
			case s == StatusUnknown && want == ReadinessReady:
				want = ReadinessStarting
			}
			if v := CheckVerdict(c); (v == ReadinessNotReady) != (c.Status == StatusFailing || c.Status == StatusStale) {
				t.Fatalf("CheckVerdict(%+v) = %s", c, v)
			}
		}
		if shuttingDown {
			want = ReadinessShuttingDown
		}
		if got != want {
			t.Fatalf("Verdict(%+v, shuttingDown=%v, excluded=%08b) = %s, want %s", checks, shuttingDown, excludedMask, got, want)
		}

		reversed := slices.Clone(checks)
		slices.Reverse(reversed)
		if again := Verdict(reversed, shuttingDown, excluded); again != got {
			t.Fatalf("order matters: %s, reversed %s", got, again)
		}
		critical := slices.DeleteFunc(slices.Clone(checks), func(c CheckSnapshot) bool { return !c.Critical })
		if again := Verdict(critical, shuttingDown, excluded); again != got {
			t.Fatalf("non-critical checks matter: %s, without them %s", got, again)
		}
		if excludedMask == 0 {
			if again := Verdict(checks, shuttingDown, nil); again != got {
				t.Fatalf("nil excluded differs from excluding nothing: %s vs %s", again, got)
			}
		}
	})
}
