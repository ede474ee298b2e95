package migrations

import (
	"slices"
	"testing"
)

func migs(versions ...string) []Migration {
	out := make([]Migration, len(versions))
	for i, v := range versions {
		out[i] = Migration{Version: v, Name: "m" + v}
	}
	return out
}

func TestCompareVersions_IsNatural(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{
		{"2", "10", -1}, {"10", "2", 1}, {"007", "7", 0}, {"1.9", "1.10", -1}, {"1.2", "1.2.1", -1},
		{"20240101000000", "20240101000001", -1}, {"99999999999999999999999", "100000000000000000000000", -1},
		{"", "1", -1}, {"1", "1", 0}, {"a", "b", -1}, {"1a", "1b", -1}, {"abc123", "abc45", 1},
	}
	for _, tc := range cases {
		if got := compareVersions(tc.a, tc.b); got != tc.want {
			t.Errorf("compareVersions(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestCompareRows(t *testing.T) {
	rows := []Row{{Version: "1"}, {Version: "2", Checksum: "aa"}, {Version: "9", Name: "9_gone"}, {Version: "3", Failed: true}}
	disk := migs("1", "2", "3", "4")
	disk[1].Checksum = "bb"
	r := compareRows(disk, rows)
	if r.AppliedCount != 3 || r.LatestApplied != "9" || r.LatestOnDisk != "4" ||
		!slices.Equal(r.Pending, []string{"m4"}) || !slices.Equal(r.Unknown, []string{"9_gone"}) ||
		!slices.Equal(r.Dirty, []string{"3"}) || !slices.Equal(r.ChecksumMismatches, []string{"m2"}) {
		t.Fatalf("%+v", r)
	}
	if r := compareRows(nil, rows); r.Unknown != nil || r.Pending != nil || r.AppliedCount != 3 {
		t.Fatalf("without a directory nothing is pending or unknown: %+v", r)
	}
}

func TestCompareCursor(t *testing.T) {
	cases := []struct {
		name                     string
		disk                     []Migration
		current                  string
		dirty                    bool
		applied                  int
		pending, unknown, dirtyL []string
	}{
		{"nothing applied", migs("1", "2"), "", false, 0, []string{"m1", "m2"}, nil, nil},
		{"one pending", migs("1", "2", "3"), "2", false, 2, []string{"m3"}, nil, nil},
		{"all applied", migs("1", "2"), "2", false, 2, nil, nil, nil},
		{"dirty is dirty, not pending", migs("1", "2", "3"), "2", true, 1, []string{"m3"}, nil, []string{"m2"}},
		{"ahead of disk", migs("1", "2"), "5", false, 2, nil, []string{"5"}, nil},
		{"no directory", nil, "5", false, 1, nil, nil, nil},
		{"no directory, dirty", nil, "5", true, 0, nil, nil, []string{"5"}},
	}
	for _, tc := range cases {
		r := compareCursor(tc.disk, tc.current, tc.dirty)
		if r.AppliedCount != tc.applied || !slices.Equal(r.Pending, tc.pending) || !slices.Equal(r.Unknown, tc.unknown) || !slices.Equal(r.Dirty, tc.dirtyL) {
			t.Errorf("%s: %+v", tc.name, r)
		}
	}
}

func TestReportProblem_MostSevereReasonFirstAndListsNames(t *testing.T) {
	r := Report{Pending: []string{"0003_add_index", "0004_backfill"}}
	reason, err := r.problem(false)
	if reason != ReasonPending || err.Error() != "2 pending (0003_add_index, 0004_backfill)" {
		t.Fatalf("%s: %v", reason, err)
	}
	r = Report{Pending: []string{"a"}, Dirty: []string{"b"}, Unknown: []string{"c"}}
	if reason, err := r.problem(false); reason != ReasonDirty || err.Error() != "1 dirty (b); 1 pending (a)" {
		t.Fatalf("%s: %v", reason, err)
	}
	if reason, _ := (&Report{Unknown: []string{"c"}}).problem(false); reason != "" {
		t.Fatalf("unknown alone must be informational, got %s", reason)
	}
	if reason, _ := (&Report{Unknown: []string{"c"}}).problem(true); reason != ReasonUnknown {
		t.Fatalf("unknown with FailOnUnknown: %s", reason)
	}
	long := Report{Pending: []string{"1", "2", "3", "4", "5", "6", "7"}}
	if _, err := long.problem(false); err.Error() != "7 pending (1, 2, 3, 4, 5, and 2 more)" {
		t.Fatalf("%v", err)
	}
	if reason, _ := (&Report{LatestApplied: "9", ExpectedVersion: "10"}).problem(false); reason != ReasonBehind {
		t.Fatalf("9 < 10: %s", reason)
	}
	if reason, _ := (&Report{LatestApplied: "10", ExpectedVersion: "9"}).problem(false); reason != "" {
		t.Fatalf("10 >= 9: %s", reason)
	}
}
