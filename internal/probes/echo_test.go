package probes

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestShort_CutsLongInputOnACharacterBoundary(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"database", "database"},
		{strings.Repeat("a", maxEcho), strings.Repeat("a", maxEcho)},
		{strings.Repeat("a", maxEcho+1), strings.Repeat("a", maxEcho) + "…"},
		{strings.Repeat("a", maxEcho-1) + "é" + "zz", strings.Repeat("a", maxEcho-1) + "…"},
	} {
		got := short(tc.in)
		if got != tc.want || !utf8.ValidString(got) {
			t.Errorf("short(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
