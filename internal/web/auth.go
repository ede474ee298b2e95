package web

import (
	"crypto/sha256"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// fakeHash is compared against when the user is unknown, so that a request
// takes as long for an unknown user as for a wrong password.
const fakeHash = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi"

// maxCached bounds the verdict cache; it is emptied when full.
const maxCached = 1024

// authenticator checks basic-auth credentials against bcrypt hashes. bcrypt
// is slow on purpose, so comparisons run one at a time and verdicts are
// cached by a digest of user, hash and password.
type authenticator struct {
	mu    sync.Mutex
	cache map[[sha256.Size]byte]bool
}

func (a *authenticator) check(users map[string]string, user, pass string) bool {
	hash, known := users[user]
	if !known {
		hash = fakeHash
	}
	key := sha256.Sum256([]byte(user + "\x00" + hash + "\x00" + pass))
	a.mu.Lock()
	defer a.mu.Unlock()
	ok, cached := a.cache[key]
	if !cached {
		ok = known && bcrypt.CompareHashAndPassword([]byte(hash), []byte(pass)) == nil
		if a.cache == nil || len(a.cache) >= maxCached {
			a.cache = map[[sha256.Size]byte]bool{}
		}
		a.cache[key] = ok
	}
	return ok
}
