package migrations

import (
	"cmp"
	"strings"
	"unicode"
)

// Row is one applied migration as a history table records it.
type Row struct {
	Version  string
	Name     string // label when the migration is not on disk; Version if empty
	Checksum string // as stored; empty when the tool stores none
	Failed   bool
}

func (r Row) label() string {
	if r.Name != "" {
		return r.Name
	}
	return r.Version
}

// compareRows compares disk with a history of one row per applied
// migration (most tools). rows are in the order they were applied. With
// disk nil (no directory) only what the history alone says is reported.
func compareRows(disk []Migration, rows []Row) Report {
	var r Report
	onDisk := make(map[string]Migration, len(disk))
	for _, m := range disk {
		onDisk[m.Version] = m
	}
	applied := make(map[string]bool, len(rows))
	for _, row := range rows {
		applied[row.Version] = true
		if row.Failed {
			r.Dirty = append(r.Dirty, row.label())
			continue
		}
		r.AppliedCount++
		r.LatestApplied = row.Version
		m, known := onDisk[row.Version]
		switch {
		case disk != nil && !known:
			r.Unknown = append(r.Unknown, row.label())
		case known && row.Checksum != "" && m.Checksum != "" && row.Checksum != m.Checksum:
			r.ChecksumMismatches = append(r.ChecksumMismatches, m.Name)
		}
	}
	for _, m := range disk {
		if !applied[m.Version] {
			r.Pending = append(r.Pending, m.Name)
		}
	}
	if len(disk) > 0 {
		r.LatestOnDisk = disk[len(disk)-1].Version
	}
	return r
}

// compareCursor compares disk with a history that records only the latest
// version applied (golang-migrate, tern). current is "" when nothing is
// applied. A dirty current version is reported as dirty, not as pending.
func compareCursor(disk []Migration, current string, dirty bool) Report {
	var r Report
	if current == "" {
		for _, m := range disk {
			r.Pending = append(r.Pending, m.Name)
		}
	}
	known := false
	for _, m := range disk {
		if current == "" {
			break
		}
		switch c := compareVersions(m.Version, current); {
		case c < 0:
			r.AppliedCount++
		case c == 0:
			known = true
			if dirty {
				r.Dirty = append(r.Dirty, m.Name)
			} else {
				r.AppliedCount++
			}
		default:
			r.Pending = append(r.Pending, m.Name)
		}
	}
	if current != "" && !known {
		if dirty {
			r.Dirty = append(r.Dirty, current)
		} else if disk != nil {
			r.Unknown = append(r.Unknown, current)
		}
	}
	if disk == nil && current != "" && !dirty {
		r.AppliedCount = 1 // at least; the history keeps only the latest
	}
	r.LatestApplied = current
	if len(disk) > 0 {
		r.LatestOnDisk = disk[len(disk)-1].Version
	}
	return r
}

// compareVersions orders version strings naturally: runs of digits compare
// as numbers ("2" < "10", "1.9" < "1.10"), the rest byte by byte.
func compareVersions(a, b string) int {
	for a != "" && b != "" {
		da, ra := leadingDigits(a)
		db, rb := leadingDigits(b)
		switch {
		case da != "" && db != "":
			na, nb := trimZeros(da), trimZeros(db)
			if len(na) != len(nb) {
				return cmp.Compare(len(na), len(nb))
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			a, b = ra, rb
		case a[0] != b[0]:
			if a[0] < b[0] {
				return -1
			}
			return 1
		default:
			a, b = a[1:], b[1:]
		}
	}
	switch {
	case a == b:
		return 0
	case a == "":
		return -1
	default:
		return 1
	}
}

func leadingDigits(s string) (digits, rest string) {
	i := 0
	for i < len(s) && unicode.IsDigit(rune(s[i])) {
		i++
	}
	return s[:i], s[i:]
}

func trimZeros(s string) string {
	for len(s) > 1 && s[0] == '0' {
		s = s[1:]
	}
	return s
}
