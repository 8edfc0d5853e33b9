package cron

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func mustParse(t *testing.T, spec string) *Expr {
	t.Helper()
	e, err := Parse(spec)
	if err != nil {
		t.Fatalf("Parse(%q): %v", spec, err)
	}
	return e
}

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestParseErrorsNameTheFieldItsColumnAndWhatIsAccepted(t *testing.T) {
	for _, c := range []struct {
		spec, field string
		col         int
		msg         string
	}{
		{"0 4 * * 8", "day-of-week", 8, "day-of-week: 8 is out of range 0-7 (or SUN-SAT)"},
		{"60 * * * *", "minute", 0, "minute: 60 is out of range 0-59"},
		{"0 24 * * *", "hour", 2, "hour: 24 is out of range 0-23"},
		{"0 0 0 * *", "day-of-month", 4, "day-of-month: 0 is out of range 1-31"},
		{"0 0 1 13 *", "month", 6, "month: 13 is out of range 1-12 (or JAN-DEC)"},
		{"0 0 1 FOO *", "month", 6, `month: "FOO" is not a value of month: it takes 1-12 (or JAN-DEC)`},
		{"0 0 * * MON-XYZ", "day-of-week", 12, `"XYZ" is not a value of day-of-week`},
		{"0 0 MON * *", "day-of-month", 4, `"MON" is not a number: day-of-month takes 1-31`},
		{"*/0 * * * *", "minute", 2, "step 0 is out of range 1-60"},
		{"*/x * * * *", "minute", 2, `step "x" is not a whole number`},
		{"0 5-1 * * *", "hour", 2, "range 5-1 runs backwards"},
		{"0,,5 * * * *", "minute", 2, "empty list item"},
		{"0 4 * *", "", 7, "expected 5 fields (minute hour day-of-month month day-of-week), got 4; day-of-week is missing"},
		{"0 0 4 * * 0", "", 10, "no seconds or year field"},
		{"", "", 0, "the cron expression is empty"},
		{"@fortnightly", "", 0, `unknown macro "@fortnightly": use @hourly, @daily, @weekly, @monthly or @yearly`},
		{"@reboot", "", 0, "@reboot is not a schedule"},
		{"@daily 5", "", 6, "@daily takes nothing after it"},
		{"CRON_TZ=Asia/Seoul 0 4 * * 0", "", 0, "set the zone with the schedule's timezone: key"},
		{"0 0 30 2 *", "day-of-month", 4, "30 never occurs in February: the expression would never fire"},
		{"0 0 ? * MON", "day-of-month", 4, "? is not supported"},
		{"  0 4 * * 9", "day-of-week", 10, "9 is out of range"},
	} {
		t.Run(c.spec, func(t *testing.T) {
			_, err := Parse(c.spec)
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("Parse(%q) = %v, want a *cron.Error", c.spec, err)
			}
			if ce.Field != c.field || ce.Col != c.col || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("Parse(%q) = {%q, %d, %q}, want {%q, %d, …%q…}", c.spec, ce.Field, ce.Col, err, c.field, c.col, c.msg)
			}
		})
	}
}

func TestNamesAreCaseInsensitiveAndSevenIsSunday(t *testing.T) {
	a, b, c := mustParse(t, "0 4 * jan,Jul sun"), mustParse(t, "0 4 * 1,7 7"), mustParse(t, "0 4 * JAN,JUL 0")
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 10; i++ {
		na, nb, nc := a.Next(from, nil), b.Next(from, nil), c.Next(from, nil)
		if !na.Equal(nb) || !na.Equal(nc) || na.Weekday() != time.Sunday {
			t.Fatalf("next after %s: %s, %s, %s; want the same Sunday", from, na, nb, nc)
		}
		from = na
	}
}

func TestNext(t *testing.T) {
	seoul := zone(t, "Asia/Seoul")
	for _, c := range []struct {
		spec  string
		after time.Time
		loc   *time.Location
		want  []string // RFC 3339 in the zone
	}{
		{"0 4 * * 0", time.Date(2026, 3, 1, 4, 0, 0, 0, seoul), seoul, // a Sunday, at the time itself: strictly after
			[]string{"2026-03-08T04:00:00+09:00", "2026-03-15T04:00:00+09:00"}},
		{"*/15 * * * *", time.Date(2026, 1, 1, 23, 50, 0, 0, time.UTC), time.UTC,
			[]string{"2026-01-02T00:00:00Z", "2026-01-02T00:15:00Z", "2026-01-02T00:30:00Z"}},
		{"30 9 * * 1-5", time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC), time.UTC, // Friday after 09:30
			[]string{"2026-01-05T09:30:00Z", "2026-01-06T09:30:00Z"}},
		{"@monthly", time.Date(2026, 1, 31, 12, 0, 0, 0, time.UTC), time.UTC,
			[]string{"2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"}},
		{"0 0 29 2 *", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.UTC,
			[]string{"2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"}},
		// Both day fields restricted: either matches (the 13th, and every Friday).
		{"0 12 13 * 5", time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), time.UTC,
			[]string{"2026-02-06T12:00:00Z", "2026-02-13T12:00:00Z", "2026-02-20T12:00:00Z", "2026-02-27T12:00:00Z", "2026-03-06T12:00:00Z", "2026-03-13T12:00:00Z"}},
		// A day field starting with * makes both needed: odd days that are Mondays.
		{"0 12 */2 * 1", time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), time.UTC,
			[]string{"2026-02-09T12:00:00Z", "2026-02-23T12:00:00Z", "2026-03-09T12:00:00Z"}},
		{"10/20 * * * *", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.UTC,
			[]string{"2026-01-01T00:10:00Z", "2026-01-01T00:30:00Z", "2026-01-01T00:50:00Z", "2026-01-01T01:10:00Z"}},
	} {
		t.Run(c.spec, func(t *testing.T) {
			e := mustParse(t, c.spec)
			at := c.after
			for _, w := range c.want {
				at = e.Next(at, c.loc)
				if got := at.In(c.loc).Format(time.RFC3339); got != w {
					t.Fatalf("next = %s, want %s", got, w)
				}
			}
		})
	}
}

// fires lists the fire times of spec in loc from `from` until `until`.
func fires(t *testing.T, spec string, loc *time.Location, from, until time.Time) []string {
	t.Helper()
	e := mustParse(t, spec)
	var got []string
	for at := e.Next(from, loc); at.Before(until); at = e.Next(at, loc) {
		got = append(got, at.In(loc).Format("01-02 15:04 MST"))
	}
	return got
}

func TestDaylightSavingInNewYork(t *testing.T) {
	ny := zone(t, "America/New_York")
	// 2026-03-08: 02:00 EST jumps to 03:00 EDT. 2026-11-01: 02:00 EDT falls back to 01:00 EST.
	spring := time.Date(2026, 3, 7, 12, 0, 0, 0, ny)
	fall := time.Date(2026, 10, 31, 12, 0, 0, 0, ny)
	for _, c := range []struct {
		name, spec string
		from       time.Time
		want       string
	}{
		{"a job in the skipped hour fires once, right after the gap", "30 2 * * *", spring,
			"03-08 02:30 EST?|03-08 03:00 EDT|03-09 02:30 EDT|03-10 02:30 EDT"},
		{"a job at the gap's first minute fires once, right after it", "0 2 * * *", spring,
			"03-08 03:00 EDT|03-09 02:00 EDT|03-10 02:00 EDT"},
		{"a job after the gap is untouched", "30 3 * * *", spring,
			"03-08 03:30 EDT|03-09 03:30 EDT|03-10 03:30 EDT"},
		{"every 30 minutes through the gap", "*/30 * * * *", time.Date(2026, 3, 8, 0, 45, 0, 0, ny),
			"03-08 01:00 EST|03-08 01:30 EST|03-08 03:00 EDT|03-08 03:30 EDT|03-08 04:00 EDT"},
		{"an hourly job goes on after the gap, without an extra run at its end", "5 * * * *", time.Date(2026, 3, 8, 0, 0, 0, 0, ny),
			"03-08 00:05 EST|03-08 01:05 EST|03-08 03:05 EDT|03-08 04:05 EDT"},
		{"every two hours follows elapsed time through the gap", "0 */2 * * *", time.Date(2026, 3, 7, 23, 0, 0, 0, ny),
			"03-08 00:00 EST|03-08 03:00 EDT|03-08 04:00 EDT|03-08 06:00 EDT"},
		{"a job in the repeated hour fires once, at its first occurrence", "30 1 * * *", fall,
			"11-01 01:30 EDT|11-02 01:30 EST|11-03 01:30 EST"},
		{"every 30 minutes follows elapsed time through the repeated hour", "*/30 * * * *", time.Date(2026, 11, 1, 0, 15, 0, 0, ny),
			"11-01 00:30 EDT|11-01 01:00 EDT|11-01 01:30 EDT|11-01 01:00 EST|11-01 01:30 EST|11-01 02:00 EST|11-01 02:30 EST"},
		{"every 30 minutes of hour 1 fires in its first occurrence only", "*/30 1 * * *", fall,
			"11-01 01:00 EDT|11-01 01:30 EDT|11-02 01:00 EST|11-02 01:30 EST|11-03 01:00 EST|11-03 01:30 EST"},
	} {
		t.Run(c.name, func(t *testing.T) {
			want := strings.Split(c.want, "|")
			if want[0] == "03-08 02:30 EST?" { // the non-existent time itself is never a fire
				want = want[1:]
			}
			got := fires(t, c.spec, ny, c.from, c.from.Add(time.Duration(len(want))*24*time.Hour))[:len(want)]
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("fires:\n got %s\nwant %s", strings.Join(got, "|"), strings.Join(want, "|"))
			}
		})
	}
}

func TestNextDuringTheRepeatedHourIsStrictlyAfterAndNeverRepeats(t *testing.T) {
	ny := zone(t, "America/New_York")
	e := mustParse(t, "30 1 * * *")
	first := time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC) // 01:30 EDT
	// From inside the second 01:00-02:00 (EST), the repeated 01:30 is not fired again.
	for _, after := range []time.Time{first, first.Add(10 * time.Minute), first.Add(time.Hour), first.Add(90 * time.Minute)} {
		if got := e.Next(after, ny); got.In(ny).Format("01-02 15:04 MST") != "11-02 01:30 EST" {
			t.Errorf("Next(%s) = %s, want 11-02 01:30 EST", after.In(ny).Format("15:04 MST"), got.In(ny).Format("01-02 15:04 MST"))
		}
	}
}

func TestNextInSeoulWeekly(t *testing.T) {
	seoul := zone(t, "Asia/Seoul")
	e := mustParse(t, "0 4 * * 0")
	got := e.Next(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), seoul) // 09:00 KST Sunday: past 04:00
	if want := time.Date(2026, 3, 7, 19, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("next = %s, want %s (Sunday 04:00 KST)", got.UTC(), want)
	}
}

func TestDescribe(t *testing.T) {
	for spec, want := range map[string]string{
		"0 4 * * 0":       "at 04:00 on Sunday",
		"*/15 * * * *":    "every 15 minutes",
		"30 9 * * 1-5":    "at 09:30 on weekdays (Monday to Friday)",
		"0 0 1 * *":       "at 00:00 on day 1 of the month",
		"@daily":          "at 00:00 every day",
		"@hourly":         "every hour, on the hour",
		"@yearly":         "at 00:00 on 1 January",
		"@weekly":         "at 00:00 on Sunday",
		"* * * * *":       "every minute",
		"0 9,17 * * *":    "at 09:00 and 17:00 every day",
		"*/10 9-17 * * *": "every 10 minutes from 09:00 to 17:59",
		"0 0 1,15 * *":    "at 00:00 on days 1 and 15 of the month",
		"0 3 * * sat,sun": "at 03:00 on weekends (Saturday and Sunday)",
		"0 8 * 6-8 *":     "at 08:00 every day in June to August",
		"0 12 13 * 5":     "at 12:00 on day 13 of the month or on Friday",
		"15 * * * *":      "at minute 15 of every hour",
		"0 6 * * 1,3,5":   "at 06:00 on Monday, Wednesday and Friday",
	} {
		if got := mustParse(t, spec).Describe(); got != want {
			t.Errorf("Describe(%q) = %q, want %q", spec, got, want)
		}
	}
}

func TestInterval(t *testing.T) {
	for spec, want := range map[string]time.Duration{
		"0 4 * * 0":    7 * 24 * time.Hour,
		"*/15 * * * *": 15 * time.Minute,
		"30 9 * * 1-5": 3 * 24 * time.Hour, // Friday to Monday
		"@daily":       24 * time.Hour,
		"0 9,17 * * *": 16 * time.Hour,
		"@monthly":     31 * 24 * time.Hour,
		"@yearly":      366 * 24 * time.Hour,
		"*/7 * * * *":  7 * time.Minute,
		"0 0 29 2 *":   (4*365 + 1) * 24 * time.Hour,
		"@hourly":      time.Hour,
	} {
		if got := mustParse(t, spec).Interval(); got != want {
			t.Errorf("Interval(%q) = %s, want %s", spec, got, want)
		}
	}
}

func TestStringIsTheSpecAsWritten(t *testing.T) {
	if got := mustParse(t, "@Weekly").String(); got != "@Weekly" {
		t.Errorf("String() = %q", got)
	}
}

// A YAML block scalar (`cron: |`) ends the line with "\n", and a line
// pasted from a web page may hold a no-break space: both are white space
// between fields, as for the schema's \s and the macros' strings.Fields.
func TestAnyWhiteSpaceSeparatesFields(t *testing.T) {
	want := mustParse(t, "0 4 * * 0").Next(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), nil)
	for _, spec := range []string{"0 4 * * 0\n", "0 4\n* * 0\n", " 0\u00a04 * * 0\u00a0", "\u00a0\u00a0 0 4 * * 0", "0\u30004 * * 0", "0\t4 * * 0\r\n"} {
		e, err := Parse(spec)
		if err != nil {
			t.Errorf("Parse(%q): %v", spec, err)
			continue
		}
		if got := e.Next(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), nil); !got.Equal(want) {
			t.Errorf("Parse(%q).Next = %s, want %s", spec, got, want)
		}
	}
	// The column of a bad field is still its byte offset.
	var ce *Error
	if _, err := Parse("\u00a00 4 * * X\n"); !errors.As(err, &ce) || ce.Col != 10 || ce.Field != "day-of-week" {
		t.Errorf("Parse = %v (col %d), want day-of-week at byte 10", err, ce.Col)
	}
}

// Lord Howe Island moves its clocks by half an hour (02:00 to 02:30 on
// 4 October 2026, 02:00 back to 01:30 on 5 April 2026).
func TestDaylightSavingOnLordHowe(t *testing.T) {
	lh := zone(t, "Australia/Lord_Howe")
	for _, c := range []struct {
		name, spec string
		from       time.Time
		want       string
	}{
		{"a job in the skipped half hour fires right after it", "15 2 * * *", time.Date(2026, 10, 3, 12, 0, 0, 0, lh),
			"10-04 02:30 +11|10-05 02:15 +11"},
		{"an hourly job reads the skipped time with the old offset", "20 * * * *", time.Date(2026, 10, 4, 0, 30, 0, 0, lh),
			"10-04 01:20 +1030|10-04 02:50 +11|10-04 03:20 +11"},
		{"every 15 minutes through the gap", "*/15 * * * *", time.Date(2026, 10, 4, 1, 30, 0, 0, lh),
			"10-04 01:45 +1030|10-04 02:30 +11|10-04 02:45 +11|10-04 03:00 +11"},
		{"a job in the repeated half hour fires once", "45 1 * * *", time.Date(2026, 4, 4, 12, 0, 0, 0, lh),
			"04-05 01:45 +11|04-06 01:45 +1030"},
		{"every 15 minutes fires in both occurrences of the repeated half hour", "*/15 * * * *", time.Date(2026, 4, 5, 1, 20, 0, 0, lh),
			"04-05 01:30 +11|04-05 01:45 +11|04-05 01:30 +1030|04-05 01:45 +1030|04-05 02:00 +1030"},
	} {
		t.Run(c.name, func(t *testing.T) {
			want := strings.Split(c.want, "|")
			got := fires(t, c.spec, lh, c.from, c.from.Add(3*24*time.Hour))
			if len(got) > len(want) {
				got = got[:len(want)]
			}
			if strings.Join(got, "|") != c.want {
				t.Errorf("fires:\n got %s\nwant %s", strings.Join(got, "|"), c.want)
			}
		})
	}
}
