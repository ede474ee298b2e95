package collectors

import "testing"

func TestReplicationLag_MeasuresStalenessNotIdleness(t *testing.T) {
	const now = 10_000.0
	samples := func(pairs ...float64) []walSample {
		var h []walSample
		for i := 0; i+1 < len(pairs); i += 2 {
			h = append(h, walSample{at: pairs[i], received: pairs[i+1]})
		}
		return h
	}
	cases := []struct {
		name                           string
		received, replayed, replayedAt float64
		history                        []walSample
		wantSeconds                    float64
		wantBytes                      int64
	}{
		{"caught up after an hour without writes", 500, 500, now - 3600, samples(now-20, 500, now-10, 500, now, 500), 0, 0},
		{"a burst after an hour idle, first seen now", 900, 500, now - 3600, samples(now-20, 500, now-10, 500, now, 900), 0, 400},
		{"a burst after an hour idle, seen 10s ago", 900, 500, now - 3600, samples(now-20, 500, now-10, 700, now, 900), 10, 400},
		{"paused while the primary writes", 3000, 500, now - 40, samples(now-40, 500, now-30, 1000, now-20, 2000, now-10, 2500, now, 3000), 30, 2500},
		{"replaying a backlog: behind since it began", 3000, 1500, now - 25, samples(now-40, 500, now-30, 1000, now-20, 2000, now, 3000), 20, 1500},
		{"first run while behind: bounded by the last replayed commit", 900, 500, now - 300, samples(now, 900), 300, 400},
		{"archive recovery, no WAL receiver", -1, 500, now - 60, nil, 60, 0},
		{"nothing replayed yet", 900, -1, 0, samples(now, 900), 0, 0},
	}
	for _, tc := range cases {
		s, b := replicationLag(now, tc.received, tc.replayed, tc.replayedAt, tc.history)
		if s != tc.wantSeconds || b != tc.wantBytes {
			t.Errorf("%s: lag %vs %d bytes, want %vs %d bytes", tc.name, s, b, tc.wantSeconds, tc.wantBytes)
		}
	}
}
