package health

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// Details reach the snapshot (and so the probe bodies and metric labels)
// only through the details redactor, on success and on failure, as error
// texts go through the redactor.
func TestStore_DetailsPassThroughTheDetailsRedactor(t *testing.T) {
	type details struct{ Lock string }
	clock := &fakeClock{t: time.Unix(1000, 0)}
	cfg := defaultConfig()
	cfg.now = clock.now
	WithDetailsRedactor(func(d any) any {
		return details{Lock: strings.ReplaceAll(d.(details).Lock, "hunter2", "xxxxx")}
	})(&cfg)
	s := newStore(cfg, []Definition{Definition{Name: "database", Checker: okChecker, Critical: true}.withDefaults()})
	for _, err := range []error{nil, errors.New("failed")} {
		r := run(clock, "database", err, "")
		r.result.Details = details{Lock: "held by postgres://app:hunter2@db"}
		c, _ := s.publish(context.Background(), r).Check("database")
		if got := c.Last.Details.(details).Lock; got != "held by postgres://app:xxxxx@db" {
			t.Fatalf("stored details %q (run error %v)", got, err)
		}
	}
}
