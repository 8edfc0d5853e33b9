// Command sseclients measures how fast live logs reach many watchers: it
// holds -n Server-Sent Events connections to one task's log stream and,
// for every line `tick UNIX_NANOS` that a running task prints (from 2 s
// after the clients start, so that all are connected), records how
// long the line took from the task's echo to each client. It prints the
// share of lines seen within -within, and the latency quantiles, and exits
// 1 when a client missed lines or any line came later than -within.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strconv"
	"sync"
	"time"
)

var tick = regexp.MustCompile(`tick (\d{19})`)

func main() {
	url := flag.String("url", "", "the log stream's URL")
	n := flag.Int("n", 200, "concurrent clients")
	duration := flag.Duration("for", 20*time.Second, "how long to watch")
	within := flag.Duration("within", time.Second, "the latency every line must stay under")
	token := flag.String("token", "", "a bearer token, when the server needs one")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), *duration)
	defer cancel()

	var mu sync.Mutex
	var latencies []time.Duration
	connected := time.Now() // lines before every client is connected are history, not live
	seen := make([]map[string]bool, *n)
	errs := make([]error, *n)
	var wg sync.WaitGroup
	ready := connected.Add(2 * time.Second)
	for i := 0; i < *n; i++ {
		seen[i] = map[string]bool{}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = watch(ctx, *url, *token, func(stamp string, at time.Time) {
				ns, _ := strconv.ParseInt(stamp, 10, 64)
				mu.Lock()
				defer mu.Unlock()
				if ns >= ready.UnixNano() && !seen[i][stamp] {
					seen[i][stamp] = true
					latencies = append(latencies, at.Sub(time.Unix(0, ns)))
				}
			})
		}(i)
	}
	wg.Wait()

	// Lines printed in the last -within may not have reached everyone yet.
	end := time.Now().Add(-*within).UnixNano()
	all := map[string]bool{}
	failed := 0
	for i := range seen {
		for s := range seen[i] {
			if ns, _ := strconv.ParseInt(s, 10, 64); ns < end {
				all[s] = true
			}
		}
		if errs[i] != nil && ctx.Err() == nil {
			failed++
			fmt.Fprintf(os.Stderr, "client %d: %v\n", i, errs[i])
		}
	}
	missing := 0
	for i := range seen {
		for s := range all {
			if !seen[i][s] {
				missing++
			}
		}
	}
	sort.Slice(latencies, func(a, b int) bool { return latencies[a] < latencies[b] })
	late := 0
	for _, l := range latencies {
		if l > *within {
			late++
		}
	}
	q := func(p float64) time.Duration {
		if len(latencies) == 0 {
			return 0
		}
		return latencies[int(p*float64(len(latencies)-1))]
	}
	fmt.Printf("clients %d, lines %d, deliveries %d, missed %d, failed clients %d\n", *n, len(all), len(latencies), missing, failed)
	fmt.Printf("latency p50 %v  p99 %v  max %v; within %v: %.2f%%\n", q(.5).Round(time.Millisecond), q(.99).Round(time.Millisecond),
		q(1).Round(time.Millisecond), *within, 100*float64(len(latencies)-late)/float64(max(len(latencies), 1)))
	if len(all) == 0 || missing > 0 || late > 0 || failed > 0 {
		os.Exit(1)
	}
}

// watch reads the event stream at url until ctx ends, calling saw for
// every tick in its data.
func watch(ctx context.Context, url, token string, saw func(stamp string, at time.Time)) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		at := time.Now()
		for _, m := range tick.FindAllStringSubmatch(sc.Text(), -1) {
			saw(m[1], at)
		}
	}
	return sc.Err()
}
