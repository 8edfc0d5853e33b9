package cron

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// instantsOf lists the instants e fires in loc during the span from start.
func instantsOf(e *Expr, loc *time.Location, start time.Time, span time.Duration) []time.Time {
	var out []time.Time
	for t := e.Next(start, loc); !t.IsZero() && t.Before(start.Add(span)); t = e.Next(t, loc) {
		out = append(out, t.UTC())
	}
	return out
}

func TestInUTCFiresAtTheSameInstants(t *testing.T) {
	seoul := 9 * time.Hour
	for _, c := range []struct {
		spec   string
		offset time.Duration
		want   []string
	}{
		{"0 4 * * 0", seoul, []string{"0 19 * * 6"}},        // Sunday 04:00 KST is Saturday 19:00 UTC
		{"@weekly", seoul, []string{"0 15 * * 6"}},          // Sunday 00:00 KST
		{"30 10 * * 1-5", seoul, []string{"30 1 * * 1-5"}},  // the same day: the day fields stay as written
		{"0 4 15 * *", seoul, []string{"0 19 14 * *"}},      // day of month moves back
		{"0 4 10,20 3 *", seoul, []string{"0 19 9,19 3 *"}}, // and keeps its month
		{"0 1,10 * * 0", seoul, []string{"0 16 * * 6", "0 1 * * 0"}},
		{"0 22 * * SAT", -5 * time.Hour, []string{"0 3 * * 0"}}, // west of Greenwich: the day after
		{"15,45 4 * * *", 5*time.Hour + 30*time.Minute, []string{"45 22 * * *", "15 23 * * *"}},
		{"*/20 0 * * 1", 5*time.Hour + 45*time.Minute, nil}, // Nepal: minutes carry into the hour before
		{"0 12 * * *", 0, []string{"0 12 * * *"}},
		{"0 0 1 1 *", -3 * time.Hour, []string{"0 3 1 1 *"}},
	} {
		t.Run(c.spec, func(t *testing.T) {
			e := mustParse(t, c.spec)
			lines, err := e.InUTC(c.offset)
			if err != nil {
				t.Fatal(err)
			}
			if c.want != nil && !reflect.DeepEqual(lines, c.want) {
				t.Errorf("InUTC(%v) = %q, want %q", c.offset, lines, c.want)
			}
			zone := time.FixedZone("z", int(c.offset/time.Second))
			start := time.Date(2027, 12, 20, 0, 0, 0, 0, time.UTC)
			span := 3 * 366 * 24 * time.Hour // leap day and year ends included
			want := instantsOf(e, zone, start, span)
			var got []time.Time
			for _, l := range lines {
				got = append(got, instantsOf(mustParse(t, l), time.UTC, start, span)...)
			}
			slices.SortFunc(got, time.Time.Compare)
			if len(want) == 0 || !reflect.DeepEqual(got, want) {
				t.Errorf("%q in UTC%+v fires %d times, %q in UTC %d times (first %v / %v)", c.spec, c.offset, len(want), lines, len(got), first(want), first(got))
			}
		})
	}
}

func TestInUTCRefusesDaysCronCannotWrite(t *testing.T) {
	seoul := 9 * time.Hour
	for _, c := range []struct {
		spec   string
		offset time.Duration
		want   string
	}{
		{"0 4 1 * *", seoul, "day 1 of a month would be the last day of the month before"},
		{"0 4 31 * *", seoul, "day 31 is missing from some months"},
		{"0 22 28 * *", -5 * time.Hour, "day 28 may be the last of its month"},
		{"0 4 * 3 *", seoul, "moves into another month"},
		{"0 4 * 3 1", seoul, "moves into another month"},
		{"0 4 */2 * 1", seoul, "a stepped day field"},
	} {
		t.Run(c.spec, func(t *testing.T) {
			_, err := mustParse(t, c.spec).InUTC(c.offset)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "timezone: UTC") {
				t.Errorf("InUTC = %v, want an error with %q and what to do", err, c.want)
			}
		})
	}
}

func first(ts []time.Time) any {
	if len(ts) == 0 {
		return nil
	}
	return ts[0]
}
