package probes

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/dbhealth/dbhealth-exporter/internal/health"
)

// BenchmarkStatusPage renders "/" for 1 and 1,000 targets of two checks
// with a full history each (one target in ten failing), as of a new
// moment each time:
//
//   - snapshots=new: every target has a new snapshot since the last
//     request, so every target's part is rendered (the page opened after
//     an interval or more on a fleet);
//   - snapshots=tenth: a tenth of the targets have a new snapshot (at a
//     10s interval, the page reloaded after a second);
//   - snapshots=same: no snapshot changed, so the cached parts are put
//     together with the ages as of now.
//
// MB/s is the HTML produced (b.SetBytes is the page's size).
//
//	go test -run '^$' -bench StatusPage -benchmem ./internal/probes/
func BenchmarkStatusPage(b *testing.B) {
	now := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	for _, n := range []int{1, 1000} {
		fleets := [2]*fakeFleet{bigFleet(now, n), bigFleet(now, n)} // the same states, other snapshots
		for _, mode := range []string{"new", "tenth", "same"} {
			if mode == "tenth" && n < 10 {
				continue
			}
			b.Run(fmt.Sprintf("targets=%d/snapshots=%s", n, mode), func(b *testing.B) {
				current := &fakeFleet{targets: slices.Clone(fleets[0].targets)}
				l := newLanding(fixed{&health.Snapshot{Readiness: health.ReadinessReady}, alive}, Options{Fleet: current})
				page, err := l.render(now)
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(len(page)))
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					switch mode {
					case "new":
						current.targets = fleets[(i+1)%2].targets
					case "tenth": // the next tenth of the targets, from the other set
						for k := i * n / 10; k < (i+1)*n/10; k++ {
							current.targets[k%n] = fleets[(k/n+1)%2].targets[k%n]
						}
					}
					if _, err := l.render(now.Add(time.Duration(i) * time.Millisecond)); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
