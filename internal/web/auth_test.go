package web

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func startWithUsers(t *testing.T, users map[string]string) *testServer {
	t.Helper()
	var b strings.Builder
	b.WriteString("basic_auth_users:\n")
	for name, h := range users {
		fmt.Fprintf(&b, "  %s: %s\n", name, h)
	}
	config := filepath.Join(t.TempDir(), "web.yml")
	write(t, config, b.String())
	return start(t, Options{ConfigFile: config}, nil)
}

// Unknown users are compared with a hash of the highest cost in the file,
// made at load, not skipped.
func TestUsers_FakeHashHasTheHighestCost(t *testing.T) {
	s := startWithUsers(t, map[string]string{"a": hashCost(t, "x", 5), "b": hashCost(t, "y", 6)})
	cost, err := bcrypt.Cost(s.current.Load().users.fake)
	if err != nil || cost != 6 {
		t.Errorf("fake hash cost %d (%v), want 6", cost, err)
	}
}

// Failed comparisons are limited per client address: after the burst an
// address gets 429 without any bcrypt work, while other addresses, and
// credentials that passed before, are unaffected.
func TestAuth_FailuresLimitedPerAddress(t *testing.T) {
	s := startWithUsers(t, map[string]string{"prom": hash(t, "pw")})
	attacker := client("127.0.0.2", nil)
	if code, _ := get(attacker, s.url+"/metrics", "prom", "pw"); code != http.StatusOK {
		t.Fatalf("valid credentials from the attacker's address: %d", code)
	}
	var codes []int
	for i := range failureBurst + 5 {
		code, _ := get(attacker, s.url+"/metrics", "prom", fmt.Sprintf("wrong%d", i))
		codes = append(codes, code)
	}
	for i, code := range codes {
		want := http.StatusUnauthorized
		if i >= failureBurst {
			want = http.StatusTooManyRequests
		}
		if code != want {
			t.Errorf("attempt %d: %d, want %d (all: %v)", i+1, code, want, codes)
			break
		}
	}
	if code, _ := get(client("127.0.0.3", nil), s.url+"/metrics", "prom", "wrong"); code != http.StatusUnauthorized {
		t.Errorf("another address: %d, want 401", code)
	}
	if code, _ := get(attacker, s.url+"/metrics", "prom", "pw"); code != http.StatusOK {
		t.Errorf("cached valid credentials from the throttled address: %d", code)
	}
	if code, _ := get(client("", nil), s.url+"/readyz", "prom", "wrong"); code != http.StatusOK {
		t.Errorf("probe with wrong credentials: %d", code)
	}
}

// Only accepted credentials enter the cache: unknown users and wrong
// passwords, however many, cannot push out a scrape's verdict.
func TestAuth_FailuresNeverEnterTheCache(t *testing.T) {
	s := startWithUsers(t, map[string]string{"prom": hash(t, "pw")})
	if code, _ := get(client("", nil), s.url+"/metrics", "prom", "pw"); code != http.StatusOK {
		t.Fatal(code)
	}
	for i := range 60 {
		from := fmt.Sprintf("127.0.3.%d", i+1) // each address within its burst
		user := "prom"
		if i%2 == 0 {
			user = fmt.Sprintf("nobody%d", i)
		}
		if code, _ := get(client(from, nil), s.url+"/metrics", user, "guess"); code != http.StatusUnauthorized {
			t.Fatalf("%s from %s: %d", user, from, code)
		}
	}
	u := s.current.Load().users
	if n := u.cached.Load(); n != 1 {
		t.Errorf("%d cached verdicts, want the one accepted", n)
	}
	if _, ok := u.accepted.Load(s.auth.key("prom", "pw")); !ok {
		t.Error("the accepted scrape's verdict is gone")
	}
}

// A probe never waits for a bcrypt slot: with every slot taken, a probe
// carrying credentials not yet cached is served at once, as anonymous.
func TestAuth_ProbeNeverWaitsForBcrypt(t *testing.T) {
	s := startWithUsers(t, map[string]string{"prom": hash(t, "pw")})
	for range cap(s.auth.slots) {
		s.auth.slots <- struct{}{}
	}
	code, body := get(client("", nil), s.url+"/readyz", "prom", "pw")
	for range cap(s.auth.slots) {
		<-s.auth.slots
	}
	if code != http.StatusOK || !strings.HasSuffix(body, "authenticated=false") {
		t.Errorf("probe while bcrypt is saturated: %d %q", code, body)
	}
	if code, body := get(client("", nil), s.url+"/readyz", "prom", "pw"); !strings.HasSuffix(body, "authenticated=true") {
		t.Errorf("probe with a free slot: %d %q", code, body)
	}
}
