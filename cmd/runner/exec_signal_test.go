package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestAnInterruptedExecEndsItsTaskAndRecordsItCancelled: two signals to
// an exec whose task's child ignores SIGTERM end exec with 130, the child
// with it, and the record says cancelled (a later step, or the retried
// one, knows it did not finish). exec takes no lock, so it keeps its own
// record of the task's process groups for the second signal to kill at
// once; how soon is not timed here (no clocks in tests): without it the
// child still dies when the 5 s grace runs out.
func TestAnInterruptedExecEndsItsTaskAndRecordsItCancelled(t *testing.T) {
	for _, sigs := range [][]syscall.Signal{{syscall.SIGTERM, syscall.SIGTERM}, {syscall.SIGINT, syscall.SIGINT}} {
		dir := stubbornDir(t)
		store := "file://" + filepath.Join(dir, "store")
		if res := runner(t, dir, baseEnv(), "exec", "r.yaml", "--run", "r1", "--state", store, "--init"); res.code != 0 {
			t.Fatalf("init: %d %s", res.code, res.stderr)
		}
		code, out, child := signalStubborn(t, dir, sigs, func(int) {}, "exec", "r.yaml", "--run", "r1", "--state", store, "--task", "stubborn")
		if code != 130 {
			t.Errorf("%v: exit %d, want 130\n%s", sigs, code, out)
		}
		if running(child) {
			syscall.Kill(child, syscall.SIGKILL)
			t.Errorf("%v: the task's process outlived runner exec", sigs)
		}
		data, err := os.ReadFile(filepath.Join(dir, "store", "r1", "tasks", "stubborn.json"))
		if err != nil {
			t.Fatalf("%v: no record: %v", sigs, err)
		}
		var rec struct{ Status string }
		if err := json.Unmarshal(data, &rec); err != nil || rec.Status != "cancelled" {
			t.Errorf("%v: record %s (%v), want cancelled", sigs, data, err)
		}
	}
}
