package interruptible_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/novelfactory/runner/internal/interruptible"
)

func TestWritesPassInOrder(t *testing.T) {
	var b bytes.Buffer
	w := interruptible.Writer(context.Background(), &b)
	for _, s := range []string{"one ", "two ", "three"} {
		if _, err := io.WriteString(w, s); err != nil {
			t.Fatal(err)
		}
	}
	if b.String() != "one two three" {
		t.Errorf("got %q", b.String())
	}
}

// TestAnInterruptFreesAWriterBlockedOnAPipe: a pipe nobody reads blocks a
// write for ever; after the interrupt the write returns, and so does every
// later one, at once.
func TestAnInterruptFreesAWriterBlockedOnAPipe(t *testing.T) {
	r, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer pw.Close()
	ctx, cancel := context.WithCancel(context.Background())
	w := interruptible.Writer(ctx, pw)
	errs := make(chan error, 1)
	go func() {
		chunk := []byte(strings.Repeat("x", 4096))
		for {
			if _, err := w.Write(chunk); err != nil {
				errs <- err
				return
			}
		}
	}()
	cancel()
	if err := <-errs; !errors.Is(err, interruptible.ErrGivenUp) {
		t.Fatalf("got %v", err)
	}
	if _, err := w.Write([]byte("later")); !errors.Is(err, interruptible.ErrGivenUp) {
		t.Errorf("a later write: %v", err)
	}
}

// TestAfterAnInterruptAWorkingOutputStillPrints: the summary of an
// interrupted run still reaches a terminal that reads.
func TestAfterAnInterruptAWorkingOutputStillPrints(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var b bytes.Buffer
	w := interruptible.Writer(ctx, &b)
	if _, err := io.WriteString(w, "interrupted; state saved"); err != nil || b.String() != "interrupted; state saved" {
		t.Errorf("got %q, %v", b.String(), err)
	}
}
