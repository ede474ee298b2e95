package benchkit

import (
	"fmt"
	"math"
	"time"
)

// Dur formats a duration with about three significant digits; a negative
// one with a minus sign, and math.MinInt64 (nothing measured) as "–".
func Dur(d time.Duration) string {
	switch {
	case d < 0 && d > math.MinInt64:
		return "-" + Dur(-d)
	case d < 0:
		return "–"
	case d < 100*time.Microsecond:
		return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond))
	case d < time.Millisecond:
		return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

// MiB formats an amount of memory given in KiB; 0 (not read) is "–".
func MiB[K int64 | float64](kib K) string {
	if kib == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f MiB", float64(kib)/1024)
}

// Number formats a rate: whole numbers from 1000, one decimal from 1,
// three significant digits below.
func Number(x float64) string {
	switch {
	case math.Abs(x) >= 1000:
		return fmt.Sprintf("%.0f", x)
	case math.Abs(x) >= 1:
		return fmt.Sprintf("%.1f", x)
	}
	return fmt.Sprintf("%.3g", x)
}

// Verdict is the last column of a report's targets table.
func Verdict(met bool) string {
	if met {
		return "met"
	}
	return "**missed**"
}
