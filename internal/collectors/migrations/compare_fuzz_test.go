package migrations

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

// FuzzCompareVersions checks that compareVersions is a total preorder, as
// sorting and "latest" need: reflexive (c(a,a) = 0), antisymmetric
// (sign c(a,b) = -sign c(b,a)), transitive (a <= b <= c implies a <= c,
// strictly if either step is strict), and equal versions are
// interchangeable (c(a,b) = 0 implies c(a,x) = c(b,x)). It also checks the
// natural order it promises on numbers: n < m as integers orders
// prefix+n+suffix before prefix+m+suffix.
func FuzzCompareVersions(f *testing.F) {
	f.Add("2", "10", "9", uint64(2), uint64(10))
	f.Add("1.9", "1.10", "1.9.1", uint64(0), uint64(1))
	f.Add("007", "7", "07", uint64(7), uint64(8))
	f.Add("", "1", "a", uint64(1), uint64(1))
	f.Add("1a", "1b", "1", uint64(0), uint64(0))
	f.Add("abc123", "abc45", "abc", uint64(45), uint64(123))
	f.Add("20240101000000", "20240101000001", "2024", uint64(20240101000000), uint64(20240101000001))
	f.Add("99999999999999999999999", "100000000000000000000000", "0", uint64(1<<63), uint64(1<<64-1))
	f.Add("0", "00", "000a", uint64(0), uint64(0))
	f.Add("a1b", "a01b", "a1c", uint64(1), uint64(2))
	f.Add("1_a", "1.a", "1a", uint64(3), uint64(4))
	f.Add("١", "1", "٢", uint64(5), uint64(6)) // Arabic-Indic digits are not digits here
	f.Add("\xff", "\x00", "9", uint64(0), uint64(9))
	f.Fuzz(func(t *testing.T, a, b, c string, n, m uint64) {
		ab, ba := compareVersions(a, b), compareVersions(b, a)
		bc, ac := compareVersions(b, c), compareVersions(a, c)
		for _, v := range []string{a, b, c} {
			if got := compareVersions(v, v); got != 0 {
				t.Fatalf("c(%q, itself) = %d", v, got)
			}
		}
		if sign(ab) != -sign(ba) {
			t.Fatalf("c(%q, %q) = %d but c(%q, %q) = %d", a, b, ab, b, a, ba)
		}
		if ab <= 0 && bc <= 0 {
			if ac > 0 || (ac == 0 && (ab < 0 || bc < 0)) {
				t.Fatalf("not transitive: c(%q, %q) = %d, c(%q, %q) = %d, c(%q, %q) = %d", a, b, ab, b, c, bc, a, c, ac)
			}
		}
		if ab == 0 && sign(ac) != sign(bc) {
			t.Fatalf("%q and %q are equal but c(·, %q) = %d, %d", a, b, c, ac, bc)
		}
		// Numbers compare as numbers; a digit next to the number would
		// make it another number.
		if strings.TrimRight(a, "0123456789") == a && strings.TrimLeft(b, "0123456789") == b {
			x, y := a+itoa(n)+b, a+itoa(m)+b
			if got := compareVersions(x, y); sign(got) != sign(cmpUint(n, m)) {
				t.Fatalf("c(%q, %q) = %d, want the order of %d and %d", x, y, got, n, m)
			}
			if got := compareVersions(x, a+"000"+itoa(n)+b); got != 0 {
				t.Fatalf("leading zeros change %q: %d", x, got)
			}
		}
	})
}

func itoa(n uint64) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

var (
	liquibaseSum = regexp.MustCompile(`^9:[0-9a-f]{32}$`)
	prismaSum    = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// FuzzChecksums checks the pure checksum helpers on fuzzed file contents:
//
//   - Flyway: agrees with the independent flywayCompatChecksum (CRC32 of the
//     text without BOM and line breaks), so line endings, blank lines and a
//     BOM do not change it, while other bytes do count;
//   - Liquibase: "9:" and 32 hex digits, unchanged by spaces, tabs, CR and
//     LF anywhere (Liquibase's NormalizingStream drops them) in UTF-8 text;
//   - Atlas: each file's hash depends only on the files up to it (a prefix
//     of the directory hashes to a prefix of the sums), an `atlas:sum
//     ignore` file adds no line, and the atlas.sum rendered from the sums
//     parses back to the same total;
//   - Prisma: one to three distinct lowercase SHA-256 hex digests, the
//     first of the file as it is, each accepted by prismaChecksumMatches
//     (also without zero padding), the file's LF form accepted too.
//
// All are deterministic.
func FuzzChecksums(f *testing.F) {
	f.Add([]byte("CREATE TABLE t ();\n"), []byte("SELECT 1;\r\n"), "1_a.sql", "2_b.sql")
	f.Add([]byte("\uFEFFa\r\n\r\nb\rc\n"), []byte("-- atlas:sum ignore\nSELECT 1;"), "20240101_init.sql", "20240102_x.sql")
	f.Add([]byte(""), []byte("\n"), "a.sql", "b.sql")
	f.Add([]byte("a b\tc"), []byte("atlas:sum ignore"), "x", "y")
	f.Add([]byte("\x00\xff\xfe"), []byte("\r"), "1.sql", "1.sql")
	f.Add([]byte("a\n\uFEFFb"), []byte("  \n\t"), "", "z")
	f.Fuzz(func(t *testing.T, a, b []byte, nameA, nameB string) {
		// Flyway.
		if got, want := flywayChecksum(a), flywayCompatChecksum(a); got != want {
			t.Fatalf("flywayChecksum(%q) = %d, flywayCompatChecksum = %d", a, got, want)
		}
		lf := bytes.ReplaceAll(bytes.ReplaceAll(a, []byte("\r\n"), []byte("\n")), []byte("\r"), []byte("\n"))
		variants := [][]byte{
			lf,
			bytes.ReplaceAll(lf, []byte("\n"), []byte("\r\n")),
			bytes.ReplaceAll(lf, []byte("\n"), []byte("\n\n")),
			append(bytes.Clone(a), '\n'),
		}
		if !bytes.HasPrefix(a, []byte("\uFEFF")) {
			variants = append(variants, append([]byte("\uFEFF"), a...))
		}
		for _, v := range variants {
			if flywayChecksum(v) != flywayChecksum(a) {
				t.Fatalf("flywayChecksum(%q) = %d but %q gives %d", a, flywayChecksum(a), v, flywayChecksum(v))
			}
		}

		// Liquibase.
		sum := liquibaseChecksum(string(a))
		if !liquibaseSum.MatchString(sum) || liquibaseChecksum(string(a)) != sum {
			t.Fatalf("liquibaseChecksum(%q) = %q", a, sum)
		}
		// (On valid UTF-8: the file is decoded first, so removing a space
		// between two invalid bytes must not make them one character.)
		spaced := strings.NewReplacer(" ", "", "\t", "", "\r", "", "\n", "").Replace(string(a))
		if got := liquibaseChecksum(spaced); utf8.Valid(a) && got != sum {
			t.Fatalf("liquibaseChecksum(%q) = %q but without white space %q gives %q", a, sum, spaced, got)
		}
		if got := liquibaseChecksum(" \t\r\n" + strings.ReplaceAll(string(a), " ", " \n\t ") + "\n "); got != sum {
			t.Fatalf("liquibaseChecksum(%q) = %q, with more white space %q", a, sum, got)
		}

		// Atlas.
		files := []atlasFile{{nameA, a}, {nameB, b}}
		all, first := atlasHashes(files), atlasHashes(files[:1])
		if len(all) < len(first) || !equalSums(all[:len(first)], first) {
			t.Fatalf("the sums of a prefix are not a prefix of the sums: %v vs %v", first, all)
		}
		want := 0
		for _, f := range files {
			if !atlasSumIgnored(f.data) {
				want++
			}
		}
		if len(all) != want {
			t.Fatalf("%d sums for %d files not ignored: %v", len(all), want, all)
		}
		for _, s := range all {
			raw, err := base64.StdEncoding.DecodeString(s.hash)
			if err != nil || len(raw) != sha256.Size {
				t.Fatalf("hash %q is not a base64 SHA-256", s.hash)
			}
		}
		if !equalSums(atlasHashes(files), all) {
			t.Fatal("atlasHashes is not deterministic")
		}
		// Atlas' own format holds names without line breaks, "h1:" or
		// surrounding spaces.
		plain := func(n string) bool {
			return n != "" && !strings.ContainsAny(n, "\r\n") && !strings.Contains(n, "h1:") && strings.TrimSpace(n) == n
		}
		if plain(nameA) && plain(nameB) {
			parsed, err := parseAtlasSum(atlasSumText(all))
			if err != nil || parsed.total() != all.total() || !equalSums(parsed, all) {
				t.Fatalf("atlas.sum of %v parses back as %v, %v", all, parsed, err)
			}
		}

		// Prisma.
		sums := prismaChecksums(a)
		digest := sha256.Sum256(a)
		if len(sums) < 1 || len(sums) > 3 || sums[0] != hex.EncodeToString(digest[:]) {
			t.Fatalf("prismaChecksums(%q) = %v", a, sums)
		}
		accepted := strings.Join(sums, " ")
		seen := map[string]bool{}
		for _, s := range sums {
			if !prismaSum.MatchString(s) || seen[s] {
				t.Fatalf("prismaChecksums(%q) = %v", a, sums)
			}
			seen[s] = true
			if !prismaChecksumMatches(accepted, s) {
				t.Fatalf("%q not accepted among %q", s, accepted)
			}
			if u := prismaUnpadded(s); len(u) != len(s) && !prismaChecksumMatches(accepted, u) {
				t.Fatalf("unpadded %q of %q not accepted", u, s)
			}
		}
		lfDigest := sha256.Sum256(bytes.ReplaceAll(a, []byte("\r\n"), []byte("\n")))
		if !prismaChecksumMatches(accepted, hex.EncodeToString(lfDigest[:])) {
			t.Fatalf("the LF form of %q is not accepted", a)
		}
		if prismaChecksumMatches(accepted, "") {
			t.Fatalf("%q accepts an empty checksum", accepted)
		}
	})
}

func equalSums(a, b atlasSums) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
