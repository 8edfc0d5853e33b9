package datefmt

import "testing"

func TestNormalize(t *testing.T) {
	good := map[string]string{
		"2026-11-01": "2026-11-01", "2026.11.01": "2026-11-01", "2026/11/1": "2026-11-01", "20261101": "2026-11-01",
		"2026-11-01 13:45:00": "2026-11-01", "2026-11-01T13:45:00+09:00": "2026-11-01", "2026. 11. 1.": "2026-11-01",
		"2026년 11월 1일": "2026-11-01", "2026년11월01일 오후 3:00": "2026-11-01", " 2026-2-28": "2026-02-28", "2024-02-29": "2024-02-29",
	}
	for in, want := range good {
		if got, ok := Normalize(in); !ok || got != want {
			t.Errorf("Normalize(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "2026", "2026-13-01", "2026-02-30", "2025-02-29", "12345678", "2026-11", "2026-11/01", "11/01/2026", "2026-11-01x", "리디"} {
		if got, ok := Normalize(bad); ok {
			t.Errorf("Normalize(%q) = %q, want not a date", bad, got)
		}
	}
}
