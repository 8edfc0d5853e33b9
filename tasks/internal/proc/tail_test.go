package proc_test

import (
	"strings"
	"testing"

	"github.com/novelfactory/runner/tasks/internal/proc"
)

// TestATailNeverStartsWithPartOfALine: the last 8 KiB of stderr started
// wherever the limit fell, and what was left of a secret there was not
// recognised by masking.
func TestATailNeverStartsWithPartOfALine(t *testing.T) {
	tail := proc.NewTail(20)
	tail.Write([]byte(strings.Repeat("x", 20_000) + "-s3cr3t-token-998877\n"))
	tail.Write([]byte("last line\n"))
	if got := tail.String(); got != "last line" {
		t.Fatalf("tail = %q", got[:min(len(got), 80)])
	}
}
