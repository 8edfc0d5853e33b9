package tokens

import (
	"context"
	"os"
	"testing"
)

func writeFile(path, body string) error { return os.WriteFile(path, []byte(body), 0o644) }

// readFile reads a usage file's records.
func readFile(path string) ([]Record, error) {
	var recs []Record
	_, _, err := Read(context.Background(), path, func(r Record) error {
		recs = append(recs, r)
		return nil
	})
	return recs, err
}

// readString reads a call log of the lines in body.
func readString(t *testing.T, body string) []Record {
	t.Helper()
	path := t.TempDir() + "/log.jsonl"
	if err := writeFile(path, body+"\n"); err != nil {
		t.Fatal(err)
	}
	recs, err := readFile(path)
	if err != nil {
		t.Error(err)
	}
	return recs
}
