package probes

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// liveness answers whether the exporter process can serve and its scheduler
// is not wedged. It never looks at the database: a database outage must not
// get the exporter restarted.
type liveness struct{ src Source }

var (
	liveJSON = []byte(`{"status":"ok"}` + "\n")
	liveText = []byte("[+]scheduler ok\nlivez check passed\n")
)

func (l liveness) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	live := l.src.Liveness()
	text := wantsText(r)
	switch {
	case live.OK && text:
		write(w, http.StatusOK, contentText, liveText)
	case live.OK:
		write(w, http.StatusOK, contentJSON, liveJSON)
	default:
		problem := fmt.Sprintf("no check has started since %s (bound %s)",
			live.LastStart.UTC().Format(time.RFC3339), live.Bound)
		if text {
			write(w, http.StatusServiceUnavailable, contentText,
				[]byte("[-]scheduler failed: "+problem+"\nlivez check failed\n"))
			return
		}
		body, _ := json.Marshal(map[string]string{"status": "failing", "error": problem})
		write(w, http.StatusServiceUnavailable, contentJSON, append(body, '\n'))
	}
}
