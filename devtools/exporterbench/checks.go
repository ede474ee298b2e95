package main

import (
	"bufio"
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// checkTotals are an exporter's own cumulative figures for its database
// check, from dbhealth_check_duration_seconds on /metrics.
type checkTotals struct {
	runs    float64
	seconds float64
}

// readCheckTotals scrapes base/metrics in the text format.
func readCheckTotals(client *http.Client, base string) (checkTotals, error) {
	body, err := get(client, base+"/metrics")
	if err != nil {
		return checkTotals{}, err
	}
	return parseCheckTotals(body), nil
}

func parseCheckTotals(body []byte) checkTotals {
	var t checkTotals
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, `check="database"`) {
			continue
		}
		var dst *float64
		switch {
		case strings.HasPrefix(line, "dbhealth_check_duration_seconds_count{"):
			dst = &t.runs
		case strings.HasPrefix(line, "dbhealth_check_duration_seconds_sum{"):
			dst = &t.seconds
		default:
			continue
		}
		f := strings.Fields(line)
		*dst, _ = strconv.ParseFloat(f[len(f)-1], 64)
	}
	return t
}

// runsBetween is how many runs an exporter made between two readings and
// how long they took on average.
type runsBetween struct {
	runs float64
	mean time.Duration
}

func between(before, after checkTotals) runsBetween {
	n := after.runs - before.runs
	if n <= 0 {
		return runsBetween{}
	}
	return runsBetween{runs: n, mean: time.Duration((after.seconds - before.seconds) / n * float64(time.Second))}
}
