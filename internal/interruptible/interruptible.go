// Package interruptible keeps a run's output from holding the run hostage:
// a write to a pipe nobody reads blocks for ever, and a run blocked in
// printing an event cannot wind down when it is interrupted.
package interruptible

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"
)

// Grace is how long a write may still take once the context is done
// before the writer gives the output up.
const Grace = time.Second

// ErrGivenUp is returned by every write after one was abandoned.
var ErrGivenUp = errors.New("output abandoned: it did not take a write within a second of the interrupt")

// Writer returns a writer that writes to w from a goroutine of its own.
// Until ctx is done it waits for each write, however long w takes, so a
// slow reader slows the run as a pipe would. Once ctx is done, a write
// that w has not taken within Grace is abandoned, and so is every later
// one: a run that was interrupted winds down and saves its state even when
// nothing reads its output. Writes keep their order.
func Writer(ctx context.Context, w io.Writer) io.Writer {
	iw := &writer{ctx: ctx, reqs: make(chan request)}
	go iw.loop(w)
	return iw
}

type request struct {
	data []byte
	done chan error
}

type writer struct {
	ctx  context.Context
	reqs chan request
	mu   sync.Mutex // one write at a time, in order
	gone bool
}

func (iw *writer) loop(w io.Writer) {
	for r := range iw.reqs {
		_, err := w.Write(r.data)
		r.done <- err
	}
}

// Write hands p to the writing goroutine and waits for it (see Writer).
func (iw *writer) Write(p []byte) (int, error) {
	iw.mu.Lock()
	defer iw.mu.Unlock()
	if iw.gone {
		return 0, ErrGivenUp
	}
	r := request{data: append([]byte(nil), p...), done: make(chan error, 1)}
	select {
	case iw.reqs <- r:
	case <-iw.ctx.Done():
		select {
		case iw.reqs <- r:
		case <-time.After(Grace):
			iw.gone = true
			return 0, ErrGivenUp
		}
	}
	select {
	case err := <-r.done:
		return len(p), err
	case <-iw.ctx.Done():
	}
	select {
	case err := <-r.done:
		return len(p), err
	case <-time.After(Grace):
		iw.gone = true
		return 0, ErrGivenUp
	}
}
