package probes

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// screenshotPath is where TestStatusPage_InChromium writes its screenshot
// when DBHEALTH_UPDATE_SCREENSHOT=1: the one docs/endpoints.md shows.
var screenshotPath = filepath.Join("..", "..", "docs", "status-page.png")

// chromium returns Debian's chromium, or fails the test saying how to
// install it: the browser test is never skipped.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "/usr/bin/chromium"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	t.Fatal("the status page's browser test needs Debian's chromium, which is not installed: " +
		"sudo apt-get install -y --no-install-recommends chromium (or: bash .ci/install-tools --system)")
	return ""
}

// browser starts a headless chromium for the test, with a profile of its
// own, and stops it when the test ends. The context bounds the whole
// test, so that a browser that hangs fails it instead of the package's
// timeout: it measures nothing.
func browser(t *testing.T) context.Context {
	t.Helper()
	alloc, stopAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless,
		chromedp.NoSandbox, // chromium refuses to run as root with its sandbox
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), // /dev/shm is small in containers
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	bounded, stopBound := context.WithTimeout(alloc, 2*time.Minute)
	ctx, stop := chromedp.NewContext(bounded)
	t.Cleanup(func() {
		stop()
		stopBound()
		stopAlloc()
	})
	return ctx
}

// pageDOM is what the browser made of the status page.
type pageDOM struct {
	CompatMode string   `json:"compatMode"`
	Scripts    int      `json:"scripts"`
	Resources  []string `json:"resources"` // everything loaded besides the document
	Summary    []string `json:"summary"`
	Targets    []struct {
		Name      string `json:"name"`
		Readiness string `json:"readiness"`
		Group     string `json:"group"`
		Shown     bool   `json:"shown"` // laid out: its group is open
		Checks    []struct {
			Name   string `json:"name"`
			Status string `json:"status"`
			Error  string `json:"error"`
			Strip  struct {
				Width  float64 `json:"width"` // as laid out, px
				Title  string  `json:"title"`
				Passed int     `json:"passed"` // bars
				Failed int     `json:"failed"`
			} `json:"strip"`
			History string `json:"history"` // the cell's text
		} `json:"checks"`
	} `json:"targets"`
}

const readDOM = `(() => {
  const bars = (svg, cls) => ((svg && svg.querySelector('path.' + cls)?.getAttribute('d')) || '').split('M').length - 1;
  return {
    compatMode: document.compatMode,
    scripts: document.scripts.length,
    resources: performance.getEntriesByType('resource').map(e => e.name),
    summary: [...document.querySelectorAll('.summary li')].map(li => li.textContent.trim()),
    targets: [...document.querySelectorAll('tbody.target')].map(tb => ({
      name: tb.dataset.target,
      readiness: tb.dataset.readiness,
      group: tb.closest('details').id,
      shown: tb.checkVisibility(),
      checks: [...tb.querySelectorAll('tr.check')].map(tr => {
        const svg = tr.querySelector('svg.strip');
        return {
          name: tr.dataset.check,
          status: tr.dataset.status,
          error: tr.querySelector('td.error').textContent,
          history: tr.querySelector('td.history').textContent,
          strip: {
            width: svg ? svg.getBoundingClientRect().width : 0,
            title: svg ? svg.querySelector('title').textContent : '',
            passed: bars(svg, 'passed'),
            failed: bars(svg, 'failed'),
          },
        };
      }),
    })),
  };
})()`

// The status page in a real browser: the real handler serves a fleet of
// nine hand-made targets, two of them failing; chromium lays it out.
func TestStatusPage_InChromium_FailingTargetsFirstWithReasonsAndHistory(t *testing.T) {
	ctx := browser(t)
	srv := httptest.NewServer(fleetMux(demoFleet(time.Now())))
	defer srv.Close()

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	dom, err := chromedp.Run(ctx, chromedp.Evaluate[pageDOM](readDOM))
	if err != nil {
		t.Fatal(err)
	}
	if dom.CompatMode != "CSS1Compat" || dom.Scripts != 0 || len(dom.Resources) != 0 {
		t.Errorf("mode %s, %d scripts, loaded %q: want standards mode, no script, nothing loaded", dom.CompatMode, dom.Scripts, dom.Resources)
	}
	if want := []string{"2 failing", "1 stale", "1 starting", "1 ready, a non-critical check failing", "4 ready"}; !slices.Equal(dom.Summary, want) {
		t.Errorf("summary %q, want %q", dom.Summary, want)
	}
	var order []string
	for _, tg := range dom.Targets {
		order = append(order, tg.Group+":"+tg.Name)
		if !tg.Shown {
			t.Errorf("%s is not shown", tg.Name)
		}
	}
	want := []string{"failing:orders", "failing:payments", "stale:search", "starting:analytics", "warning:users",
		"ready:billing", "ready:catalog", "ready:inventory", "ready:shipping"}
	if !slices.Equal(order, want) {
		t.Fatalf("targets in the page's order: %q, want %q", order, want)
	}

	orders, payments, analytics := dom.Targets[0], dom.Targets[1], dom.Targets[3]
	for _, c := range orders.Checks {
		if c.Status != "failing" || !strings.Contains(c.Error, "connection refused") ||
			c.Strip.Failed != 30 || c.Strip.Passed != 0 || c.Strip.Width == 0 || !strings.Contains(c.History, "30 of 30 failed") {
			t.Errorf("orders, check %s: %+v", c.Name, c)
		}
	}
	if orders.Readiness != "not_ready" {
		t.Errorf("orders: %s", orders.Readiness)
	}
	migrations := payments.Checks[1]
	if migrations.Name != "migrations" || !strings.Contains(migrations.Error, "2 pending (0042_add_refund_index, 0043_backfill_refunds)") ||
		migrations.Strip.Passed != 6 || migrations.Strip.Failed != 24 || !strings.Contains(migrations.Strip.Title, "24 failed (pending ×24)") {
		t.Errorf("payments, check migrations: %+v", migrations)
	}
	if db := payments.Checks[0]; db.Status != "ok" || db.Error != "" || db.Strip.Passed != 30 {
		t.Errorf("payments, check database: %+v", db)
	}
	if c := analytics.Checks[0]; c.Status != "unknown" || c.Strip.Width != 0 || !strings.Contains(c.History, "no runs yet") {
		t.Errorf("analytics, starting: %+v", c)
	}

	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(shot, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("the screenshot is not a PNG: %.8q", shot)
	}
	if os.Getenv("DBHEALTH_UPDATE_SCREENSHOT") == "1" {
		if err := os.WriteFile(screenshotPath, shot, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d bytes)", screenshotPath, len(shot))
	}
}

// In a large fleet the ready targets are collapsed: the browser lays out
// the failing ones and not the ready ones until their group is opened.
func TestStatusPage_InChromium_LargeFleetCollapsesReadyTargets(t *testing.T) {
	ctx := browser(t)
	srv := httptest.NewServer(fleetMux(bigFleet(time.Now(), 300)))
	defer srv.Close()

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	dom, err := chromedp.Run(ctx, chromedp.Evaluate[pageDOM](readDOM))
	if err != nil {
		t.Fatal(err)
	}
	shown := map[string]int{}
	for _, tg := range dom.Targets {
		if tg.Shown {
			shown[tg.Group]++
		}
	}
	if len(dom.Targets) != 300 || shown["failing"] != 30 || shown["ready"] != 0 || dom.Targets[0].Name != "db0000" {
		t.Fatalf("%d targets, shown by group %v, first %s", len(dom.Targets), shown, dom.Targets[0].Name)
	}
	// Opening the group is a click on its summary: no script of ours.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#ready > summary`))); err != nil {
		t.Fatal(err)
	}
	if dom, err = chromedp.Run(ctx, chromedp.Evaluate[pageDOM](readDOM)); err != nil {
		t.Fatal(err)
	}
	for _, tg := range dom.Targets {
		if !tg.Shown {
			t.Fatalf("%s is not shown with its group open", tg.Name)
		}
	}
}
