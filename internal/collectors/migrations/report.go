package migrations

import (
	"errors"
	"fmt"
	"strings"
)

// Report is what the migrations check found; it is the check's Details.
type Report struct {
	Tool          string `json:"tool"`
	Directory     string `json:"directory,omitempty"`
	AppliedCount  int    `json:"applied_count"`
	LatestApplied string `json:"latest_applied"`
	LatestOnDisk  string `json:"latest_on_disk,omitempty"`
	// Pending are on disk but not applied, in the tool's order.
	Pending []string `json:"pending"`
	// Unknown are applied but not on disk: the database is ahead of this
	// code (normal mid-rollout). Informational unless FailOnUnknown.
	Unknown []string `json:"unknown"`
	// Dirty are recorded as failed or half-applied.
	Dirty []string `json:"dirty"`
	// ChecksumMismatches were applied from a file that has changed since.
	ChecksumMismatches []string `json:"checksum_mismatches"`
	// Drifted were applied from a file that has changed since, for a tool
	// that does not hold that against them itself (Atlas):
	// informational, like Unknown.
	Drifted []string `json:"drifted,omitempty"`
	// Locked is set when the tool's lock is held (a run died holding it).
	Locked          bool   `json:"locked"`
	LockDetail      string `json:"lock,omitempty"`
	ExpectedVersion string `json:"expected_version,omitempty"`
}

// Failure reasons of the migrations check, beyond the connection reasons of
// the database check.
const (
	ReasonDirty            = "dirty"
	ReasonChecksumMismatch = "checksum_mismatch"
	ReasonLocked           = "locked"
	ReasonPending          = "pending"
	ReasonBehind           = "behind_expected_version"
	ReasonUnknown          = "unknown_applied"
	ReasonMissingTable     = "missing_table"
	ReasonAmbiguousTool    = "ambiguous_tool"
	ReasonUnreadableDir    = "unreadable_directory"
	ReasonInvalidFiles     = "invalid_files"
)

// maxListed bounds the names an error message lists.
const maxListed = 5

// problem returns the readiness failure the report amounts to, most severe
// reason first, or nil.
func (r *Report) problem(failOnUnknown bool) (reason string, err error) {
	var parts []string
	add := func(why string, cond bool, msg string) {
		if cond {
			if reason == "" {
				reason = why
			}
			parts = append(parts, msg)
		}
	}
	add(ReasonDirty, len(r.Dirty) > 0, list(len(r.Dirty), "dirty", r.Dirty))
	add(ReasonChecksumMismatch, len(r.ChecksumMismatches) > 0, list(len(r.ChecksumMismatches), "changed since applied", r.ChecksumMismatches))
	add(ReasonLocked, r.Locked, "migration lock held: "+r.LockDetail)
	add(ReasonPending, len(r.Pending) > 0, list(len(r.Pending), "pending", r.Pending))
	add(ReasonBehind, r.ExpectedVersion != "" && compareVersions(r.LatestApplied, r.ExpectedVersion) < 0,
		fmt.Sprintf("applied version %q is behind the expected %q", r.LatestApplied, r.ExpectedVersion))
	add(ReasonUnknown, failOnUnknown && len(r.Unknown) > 0, list(len(r.Unknown), "applied but not on disk", r.Unknown))
	if reason == "" {
		return "", nil
	}
	return reason, errors.New(strings.Join(parts, "; "))
}

// list formats "2 pending (0003_x, 0004_y)".
func list(n int, what string, names []string) string {
	shown := names
	if len(shown) > maxListed {
		shown = shown[:maxListed]
	}
	more := ""
	if len(names) > maxListed {
		more = fmt.Sprintf(", and %d more", len(names)-maxListed)
	}
	return fmt.Sprintf("%d %s (%s%s)", n, what, strings.Join(shown, ", "), more)
}

// normalize makes every list non-nil, so the payload shows [] not null.
func (r *Report) normalize() {
	for _, l := range []*[]string{&r.Pending, &r.Unknown, &r.Dirty, &r.ChecksumMismatches} {
		if *l == nil {
			*l = []string{}
		}
	}
}
