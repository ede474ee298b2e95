package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"hash/maphash"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Limits of the authenticator (see docs/endpoints.md, "Limits").
const (
	// maxVerdicts bounds the cache of accepted credentials. Only a
	// correct password adds to it, so a flood of wrong ones cannot
	// flush it.
	maxVerdicts = 256
	// failureBurst and failureEvery: each client address may have
	// failureBurst comparisons fail in a row, then one more per
	// failureEvery. A correct password gives its token back.
	failureBurst = 5
	failureEvery = time.Second
	// bcryptWait is how long a request on a private path waits for its
	// turn at bcrypt before it is answered 503.
	bcryptWait = 5 * time.Second
)

// users is one generation of basic_auth_users with what checking them
// needs. A new generation (a changed file) starts with an empty cache.
type users struct {
	hashes map[string][]byte
	// fake is a bcrypt hash, of a random password, at the highest cost in
	// hashes: an unknown user is compared with it, so that unknown users
	// and wrong passwords cost the same.
	fake     []byte
	accepted sync.Map // cacheKey -> struct{}: credentials that passed
	cached   atomic.Int32
}

type cacheKey [sha256.Size]byte

// verdict is the outcome of checking a request's credentials.
type verdict int

const (
	noCredentials verdict = iota
	accepted
	rejected  // unknown user or wrong password
	throttled // this address has failed too often: no comparison made
	busy      // no bcrypt slot free in time: no comparison made
)

// turns is how many ways client addresses are spread over for taking
// turns at bcrypt (see authenticator).
const turns = 256

// authenticator checks basic-auth credentials. An accepted pair is cached:
// a scrape that passed once costs a hash and a sync.Map load from then on,
// with no lock. Everything else runs bcrypt, after taking a token from the
// client address's failure bucket, at most max(2, GOMAXPROCS) comparisons
// at a time and at most one per client address (addresses are hashed
// into 256 turns, with a per-process seed so that an attacker cannot pick
// an address sharing a scraper's turn): a flood from one address always
// leaves a slot free for the others.
type authenticator struct {
	salt     [16]byte // keys the cache, so it holds no plain digest of a password
	slots    chan struct{}
	turns    [turns]chan struct{}
	seed     maphash.Seed
	failures *addrLimits
}

func newAuthenticator(slots int) *authenticator {
	a := &authenticator{slots: make(chan struct{}, max(slots, 2)), seed: maphash.MakeSeed(),
		failures: newAddrLimits(failureEvery, failureBurst)}
	for i := range a.turns {
		a.turns[i] = make(chan struct{}, 1)
	}
	_, _ = rand.Read(a.salt[:])
	return a
}

func (a *authenticator) key(user, pass string) cacheKey {
	h := sha256.New()
	h.Write(a.salt[:])
	_ = binary.Write(h, binary.LittleEndian, uint32(len(user)))
	h.Write([]byte(user))
	h.Write([]byte(pass))
	var k cacheKey
	h.Sum(k[:0])
	return k
}

// check verifies r's credentials against u. wait says whether the request
// may wait for a bcrypt slot (private paths) or must not be delayed at all
// (probes: without a free slot they are served as anonymous).
func (a *authenticator) check(r *http.Request, u *users, wait bool) verdict {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return noCredentials
	}
	key := a.key(user, pass)
	if _, hit := u.accepted.Load(key); hit {
		return accepted
	}
	hash, known := u.hashes[user]
	if !known {
		hash = u.fake
	}
	addr := clientAddr(r)
	if !a.failures.take(addr, time.Now()) {
		return throttled
	}
	turn := a.turns[maphash.Comparable(a.seed, addr)%turns]
	if !a.acquire(r.Context(), turn, wait) {
		a.failures.refund(addr, time.Now())
		return busy
	}
	err := bcrypt.CompareHashAndPassword(hash, []byte(pass))
	<-a.slots
	<-turn
	if !known || err != nil {
		return rejected
	}
	a.failures.refund(addr, time.Now())
	if u.cached.Load() < maxVerdicts {
		if _, loaded := u.accepted.LoadOrStore(key, struct{}{}); !loaded {
			u.cached.Add(1)
		}
	}
	return accepted
}

// acquire takes the address's turn and then a bcrypt slot: at once or
// not at all when !wait, else within bcryptWait and while the request
// lasts.
func (a *authenticator) acquire(ctx context.Context, turn chan struct{}, wait bool) bool {
	if !wait {
		select {
		case turn <- struct{}{}:
		default:
			return false
		}
		select {
		case a.slots <- struct{}{}:
			return true
		default:
			<-turn
			return false
		}
	}
	timer := time.NewTimer(bcryptWait)
	defer timer.Stop()
	select {
	case turn <- struct{}{}:
	case <-timer.C:
		return false
	case <-ctx.Done():
		return false
	}
	select {
	case a.slots <- struct{}{}:
		return true
	case <-timer.C:
	case <-ctx.Done():
	}
	<-turn
	return false
}

type authenticatedKey struct{}

// Authenticated reports whether r carried basic-auth credentials that the
// server accepted. On private paths every request that reaches the handler
// has; on public paths (probes) credentials are checked when present,
// through the same cache and limits, but a request whose credentials fail
// is served anyway, as anonymous. It is false when the web configuration
// has no users.
func Authenticated(r *http.Request) bool {
	ok, _ := r.Context().Value(authenticatedKey{}).(bool)
	return ok
}

func markAuthenticated(r *http.Request) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), authenticatedKey{}, true))
}

// HasUsers reports whether the web configuration in force has basic-auth
// users: whether a request can be anonymous as opposed to authenticated.
func (s *Server) HasUsers() bool {
	u := s.current.Load().users
	return u != nil && len(u.hashes) > 0
}
