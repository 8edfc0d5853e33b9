package shellrun

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"mvdan.cc/sh/v3/interp"
)

// What one script may take of runner: the interpreter runs in runner's
// process, where a function that calls itself without end would overflow
// the stack (a crash no recover catches), and a fork bomb would start
// goroutines until memory runs out.
const (
	// maxFrames bounds the Go frames of a goroutine of the script: some
	// 5,000 nested function calls, 32 MB of stack (Go's limit is 1 GB).
	maxFrames = 40_000
	// maxGoroutines bounds the goroutines of one script: a background job
	// or a pipeline's stage is one, an external command one to three
	// more. About 500 background jobs at once.
	maxGoroutines = 2048
	// maxSubst bounds the output one command substitution collects.
	maxSubst = 16 << 20
)

// goroutineLabel labels the goroutines of a script (runtime/pprof).
const goroutineLabel = "runner-shell"

// limits holds what call needs to check a script's limits cheaply.
type limits struct {
	calls   atomic.Int64
	mu      sync.Mutex
	counted time.Time // when its goroutines were last counted
	over    bool
}

// call runs before every command, builtin and function call of the
// script: the interpreter checks for cancellation between commands, and
// this checks the limits.
func (r *run) call(ctx context.Context, args []string) ([]string, error) {
	// The depth is checked on every 16th call: walking the stack costs
	// about 50 ns a frame.
	if r.limits.calls.Add(1)%16 == 0 {
		var pc [1]uintptr
		if runtime.Callers(maxFrames, pc[:]) > 0 {
			return nil, r.limit(&LimitError{What: "functions called one another over 5,000 deep (a function that calls itself without end?)"})
		}
	}
	if runtime.NumGoroutine() > maxGoroutines && r.tooManyGoroutines() {
		return nil, r.limit(&LimitError{What: fmt.Sprintf("it ran over %d background jobs and pipeline stages at once (a fork bomb?)", maxGoroutines)})
	}
	if b, ok := interp.HandlerCtx(ctx).Stdout.(interface{ Len() int }); ok && b.Len() > maxSubst {
		return nil, r.limit(substLimit())
	}
	return args, nil
}

func substLimit() *LimitError {
	return &LimitError{What: fmt.Sprintf("a command substitution $(…) collected over %d MiB", maxSubst>>20)}
}

// limit stops the whole script, background jobs and all, with err.
func (r *run) limit(err *LimitError) error {
	r.stop(err)
	return err
}

// tooManyGoroutines counts the goroutines that carry the script's label,
// at most every 50 ms: runner as a whole has more than one script may.
func (r *run) tooManyGoroutines() bool {
	r.limits.mu.Lock()
	defer r.limits.mu.Unlock()
	if time.Since(r.limits.counted) < 50*time.Millisecond {
		return r.limits.over
	}
	r.limits.over = labelledGoroutines(r.key) > maxGoroutines
	r.limits.counted = time.Now()
	return r.limits.over
}

// labelledGoroutines counts the goroutines labelled key, from the
// goroutine profile: lines "N @ 0x…" each followed by "# labels: {…}".
func labelledGoroutines(key string) int {
	var b bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&b, 1); err != nil {
		return 0
	}
	label := strconv.Quote(goroutineLabel) + ":" + strconv.Quote(key)
	total, n := 0, 0
	for line := range strings.Lines(b.String()) {
		if count, _, ok := strings.Cut(line, " @ "); ok {
			n, _ = strconv.Atoi(count)
		} else if strings.HasPrefix(line, "# labels: ") && strings.Contains(line, label) {
			total += n
		}
	}
	return total
}
