package benchkit

import (
	"fmt"
	"math"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseProcStat_CommandWithParentheses(t *testing.T) {
	line := "1234 (postgres: a) b) S 99 1234 1234 0 -1 4194560 100 0 0 0 250 50 7 3 20 0 1 0 100 0 0"
	st, ok := ParseProcStat(line)
	if !ok {
		t.Fatal("not parsed")
	}
	if st.PPID != 99 || st.Own != 300*Tick || st.Children != 10*Tick {
		t.Errorf("%+v", st)
	}
	if _, ok := ParseProcStat("1234 (x) S 1 2"); ok {
		t.Error("a short line parsed")
	}
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		xs   []float64
		want float64
	}{{nil, 0}, {[]float64{7}, 7}, {[]float64{3, 1, 2}, 2}, {[]float64{3, 1, 2, 10}, 2.5}} {
		if got := Median(c.xs); got != c.want {
			t.Errorf("Median(%v) = %v, want %v", c.xs, got, c.want)
		}
	}
}

func TestQuantile(t *testing.T) {
	const ms = time.Millisecond
	ds := []time.Duration{50 * ms, 10 * ms, 40 * ms, 20 * ms, 30 * ms}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0, 10 * ms}, {0.5, 30 * ms}, {0.9, 50 * ms}, {0.99, 50 * ms}, {1, 50 * ms}} {
		if got := Quantile(ds, c.q); got != c.want {
			t.Errorf("Quantile %.2f = %s, want %s", c.q, got, c.want)
		}
	}
	if got := Quantile([]float64{1, 5, 9}, 0.5); got != 5 {
		t.Errorf("Quantile of numbers = %v", got)
	}
	if got := Quantile([]time.Duration(nil), 0.5); got != 0 {
		t.Errorf("Quantile of nothing = %v", got)
	}
	if ds[0] != 50*ms {
		t.Error("Quantile sorted its argument")
	}
}

func TestDur(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0.0 µs", 5 * time.Microsecond: "5.0 µs", 250 * time.Microsecond: "250 µs", 2500 * time.Microsecond: "2.50 ms",
		40 * time.Millisecond: "40 ms", 12 * time.Second: "12.00 s", -3 * time.Millisecond: "-3.00 ms", math.MinInt64: "–",
	} {
		if got := Dur(d); got != want {
			t.Errorf("Dur(%d) = %q, want %q", d, got, want)
		}
	}
}

func TestMiB(t *testing.T) {
	if got := MiB(int64(30000)); got != "29.3 MiB" {
		t.Errorf("MiB(int64) = %q", got)
	}
	if got := MiB(30000.0); got != "29.3 MiB" {
		t.Errorf("MiB(float64) = %q", got)
	}
	if got := MiB(int64(0)); got != "–" {
		t.Errorf("MiB(0) = %q", got)
	}
}

func TestNumber(t *testing.T) {
	for x, want := range map[float64]string{0: "0", 0.00865: "0.00865", 17.44: "17.4", 179.4: "179.4", 1000.35: "1000", 1041274.3: "1041274"} {
		if got := Number(x); got != want {
			t.Errorf("Number(%v) = %q, want %q", x, got, want)
		}
	}
}

// The further versions stand between PostgreSQL and the load average.
func TestMachineTable(t *testing.T) {
	m := Machine{CPUs: 4, CPU: "Xeon", Postgres: "PostgreSQL 17", Versions: [][2]string{{"wrk", "wrk 4.2"}},
		LoadStart: "1 2 3", LoadEnd: "4 5 6", OthersAtStart: 0.123}
	var b strings.Builder
	m.Table(func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) })
	got := b.String()
	for _, want := range []string{"| | |\n|---|---|\n| CPUs (`nproc`) | 4 |\n",
		"| PostgreSQL | PostgreSQL 17 |\n| wrk | wrk 4.2 |\n| load average (1/5/15 min), start → end | 1 2 3 → 4 5 6 |\n",
		"| CPU used by other processes just before the start | 0.12 cores |\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("no %q in:\n%s", want, got)
		}
	}
}

func TestCleanEnv(t *testing.T) {
	t.Setenv("PGHOST", "elsewhere")
	t.Setenv("GOGC", "50")
	t.Setenv("BENCHKIT_KEPT", "1")
	env := CleanEnv()
	if slices.Contains(env, "PGHOST=elsewhere") || !slices.Contains(env, "GOGC=50") || !slices.Contains(env, "BENCHKIT_KEPT=1") {
		t.Errorf("CleanEnv() kept or dropped the wrong variables")
	}
	if env := CleanEnv("GOGC="); slices.Contains(env, "GOGC=50") || !slices.Contains(env, "BENCHKIT_KEPT=1") {
		t.Errorf(`CleanEnv("GOGC=") kept GOGC`)
	}
}

// A started server gets a loopback address, logs to its file and stops on
// SIGTERM.
func TestStartServer(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	var addr string
	p, err := StartServer("a server/one", t.TempDir(), func(a string) *exec.Cmd {
		addr = a
		return exec.Command(sh, "-c", "echo listening on "+a+"; exec sleep 60")
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	if !strings.HasPrefix(addr, "127.0.0.1:") || p.URL != "http://"+addr {
		t.Errorf("address %q, URL %q", addr, p.URL)
	}
	want := "listening on " + addr
	for deadline := time.Now().Add(10 * time.Second); Tail(p.Log) != want && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if got := Tail(p.Log); got != want || !strings.HasSuffix(p.Log, "a_server_one.log") {
		t.Errorf("log %s: %q, want %q", p.Log, got, want)
	}
	p.Stop()
	select {
	case <-p.Done():
	default:
		t.Error("running after Stop")
	}
	p.Stop() // a second Stop returns at once
}
